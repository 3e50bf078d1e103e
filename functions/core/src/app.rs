//! The composition of pakn: its ports, built once per process by a
//! composition root (`pakn-local`'s `LocalBackend::pakn`, `pakn-aws`'s
//! `pakn_with`), handing each use case just the ports it needs.
//!
//! `Pakn` holds no behaviour of its own: `pakn.intake().submit(..)`,
//! `pakn.actions().act(..)`, `pakn.sweep().run(..)` and so on are the use
//! cases in their modules.

use crate::actions::Actions;
use crate::apikeys::ApiKeys;
use crate::intake::Intake;
use crate::lookup::Lookup;
use crate::open311::Open311;
use crate::outbox::Outbox;
use crate::oversight::{Inspections, People};
use crate::ports::{
    ApiKeyStore, Blobs, CaseStore, Clock, FollowerStore, InspectionStore, Ledger, Messenger,
    NoBlobs, NoMessenger, NoticeStore, Notifier, PeopleStore, PrivacyStore, QuotaStore, StatsStore,
    Store, UploadStore, WardMapStore,
};
use crate::privacy::Privacy;
use crate::refdata::RefData;
use crate::reporting::Reporting;
use crate::routing::{Routing, WardCache};
use crate::sweep::Sweep;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// pakn's ports, by concern.
#[derive(Clone)]
pub struct Pakn {
    pub cases: Arc<dyn CaseStore>,
    pub ledger: Arc<dyn Ledger>,
    pub people: Arc<dyn PeopleStore>,
    pub inspections: Arc<dyn InspectionStore>,
    pub stats: Arc<dyn StatsStore>,
    pub quota: Arc<dyn QuotaStore>,
    pub privacy: Arc<dyn PrivacyStore>,
    pub api_keys: Arc<dyn ApiKeyStore>,
    pub uploads: Arc<dyn UploadStore>,
    /// Where uploads' bytes live ([`NoBlobs`] until a backend sets it: [`Pakn::with_blobs`]).
    pub blobs: Arc<dyn Blobs>,
    pub ward_maps: Arc<dyn WardMapStore>,
    pub followers: Arc<dyn FollowerStore>,
    pub notices: Arc<dyn NoticeStore>,
    /// Delivers citizens' notices ([`NoMessenger`] until a backend sets it:
    /// [`Pakn::with_messenger`]).
    pub messenger: Arc<dyn Messenger>,
    /// The router's copy of the current ward boundaries (per process).
    pub wards: Arc<WardCache>,
    pub notifier: Arc<dyn Notifier>,
    pub clock: Arc<dyn Clock>,
    pub refdata: Arc<RefData>,
}

impl Pakn {
    /// Every store port from one backend that implements them all (a
    /// concrete store, or one already behind `dyn Store`, e.g. wrapped).
    pub fn new(
        store: Arc<dyn Store>,
        notifier: Arc<dyn Notifier>,
        clock: Arc<dyn Clock>,
        refdata: Arc<RefData>,
    ) -> Pakn {
        Pakn {
            cases: store.clone(),
            ledger: store.clone(),
            people: store.clone(),
            inspections: store.clone(),
            stats: store.clone(),
            quota: store.clone(),
            privacy: store.clone(),
            api_keys: store.clone(),
            uploads: store.clone(),
            blobs: Arc::new(NoBlobs),
            ward_maps: store.clone(),
            followers: store.clone(),
            notices: store,
            messenger: Arc::new(NoMessenger),
            wards: Arc::new(WardCache::default()),
            notifier,
            clock,
            refdata,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The same ports with uploads' bytes kept in `blobs`.
    pub fn with_blobs(mut self, blobs: Arc<dyn Blobs>) -> Pakn {
        self.blobs = blobs;
        self
    }

    /// The same ports with citizens' notices delivered by `messenger`.
    pub fn with_messenger(mut self, messenger: Arc<dyn Messenger>) -> Pakn {
        self.messenger = messenger;
        self
    }

    /// Citizens' notification preferences, devices and notices.
    pub fn notices(&self) -> crate::notices::Notices<'_> {
        crate::notices::Notices {
            cases: &*self.cases,
            followers: &*self.followers,
            store: &*self.notices,
            messenger: &*self.messenger,
            quota: &*self.quota,
            clock: &*self.clock,
            refdata: &self.refdata,
        }
    }

    /// Upload slots and media links.
    pub fn media(&self) -> crate::media::Media<'_> {
        crate::media::Media {
            uploads: &*self.uploads,
            blobs: &*self.blobs,
            policy: &self.refdata.policy.media,
            now: self.clock.now(),
        }
    }

    /// Uploads' records and files, to erase them.
    pub fn media_files(&self) -> crate::media::MediaFiles<'_> {
        crate::media::MediaFiles {
            uploads: &*self.uploads,
            blobs: &*self.blobs,
        }
    }

    /// Publish notifications already decided and stored (the store's
    /// change stream hands them over: `pakn-publisher`), deciding their
    /// citizens' notices first and marking what went out, exactly as after
    /// a commit. Returns how many went out; the rest are still unpublished.
    pub async fn publish_decided(&self, ns: &[crate::notify::Notification]) -> usize {
        self.outbox().publish(ns).await
    }

    fn outbox(&self) -> Outbox<'_> {
        Outbox {
            cases: &*self.cases,
            ledger: &*self.ledger,
            notifier: &*self.notifier,
            notices: self.notices(),
        }
    }

    /// Submitting reports.
    pub fn intake(&self) -> Intake<'_> {
        Intake {
            cases: &*self.cases,
            quota: &*self.quota,
            clock: &*self.clock,
            refdata: &self.refdata,
        }
    }

    /// Client applications' API keys.
    pub fn api_keys(&self) -> ApiKeys<'_> {
        ApiKeys {
            keys: &*self.api_keys,
            clock: &*self.clock,
        }
    }

    /// Open311 GeoReport v2: services, submissions by client applications,
    /// the public view of requests.
    pub fn open311(&self) -> Open311<'_> {
        Open311 {
            intake: self.intake(),
            cases: &*self.cases,
            ward_maps: &*self.ward_maps,
            wards: &self.wards,
            clock: &*self.clock,
            refdata: &self.refdata,
        }
    }

    /// Routing queued cases to their units.
    pub fn routing(&self) -> Routing<'_> {
        Routing {
            cases: &*self.cases,
            ward_maps: &*self.ward_maps,
            wards: &self.wards,
            outbox: self.outbox(),
            clock: &*self.clock,
            refdata: &self.refdata,
        }
    }

    /// The case workflow (accept, transfer, resolve, rate, …).
    pub fn actions(&self) -> Actions<'_> {
        Actions {
            cases: &*self.cases,
            followers: &*self.followers,
            quota: &*self.quota,
            people: &*self.people,
            outbox: self.outbox(),
            clock: &*self.clock,
            refdata: &self.refdata,
        }
    }

    /// Reading cases (full, public, listings).
    pub fn lookup(&self) -> Lookup<'_> {
        Lookup {
            cases: &*self.cases,
            people: &*self.people,
            clock: &*self.clock,
            refdata: &self.refdata,
        }
    }

    /// The deadline sweep.
    pub fn sweep(&self) -> Sweep<'_> {
        Sweep {
            cases: &*self.cases,
            ledger: &*self.ledger,
            people: &*self.people,
            stats: &*self.stats,
            inspections: self.inspections(),
            privacy: &*self.privacy,
            media: self.media_files(),
            outbox: self.outbox(),
            clock: &*self.clock,
            refdata: &self.refdata,
        }
    }

    /// Accounts, registration, rosters and headcounts.
    pub fn people(&self) -> People<'_> {
        People {
            people: &*self.people,
            clock: &*self.clock,
            refdata: &self.refdata,
        }
    }

    /// Home Affairs' inspections.
    pub fn inspections(&self) -> Inspections<'_> {
        Inspections {
            inspections: &*self.inspections,
            cases: &*self.cases,
            people: &*self.people,
            ledger: &*self.ledger,
            clock: &*self.clock,
            refdata: &self.refdata,
        }
    }

    /// What was published for a unit, and when.
    pub fn notifications(&self) -> crate::oversight::Notifications<'_> {
        crate::oversight::Notifications {
            ledger: &*self.ledger,
            refdata: &self.refdata,
        }
    }

    /// Statistics and scorecards.
    pub fn reporting(&self) -> Reporting<'_> {
        Reporting {
            stats: &*self.stats,
            people: &*self.people,
            clock: &*self.clock,
            refdata: &self.refdata,
        }
    }

    /// Citizens following cases.
    pub fn following(&self) -> crate::following::Following<'_> {
        crate::following::Following {
            cases: &*self.cases,
            followers: &*self.followers,
            clock: &*self.clock,
        }
    }

    /// Personal data: `me/data`, erasure, the audit trail.
    pub fn privacy(&self) -> Privacy<'_> {
        Privacy {
            cases: &*self.cases,
            people: &*self.people,
            privacy: &*self.privacy,
            followers: &*self.followers,
            notices: &*self.notices,
            media: self.media_files(),
            quota: &*self.quota,
            clock: &*self.clock,
            refdata: &self.refdata,
        }
    }
}
