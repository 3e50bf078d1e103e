//! Oversight: the people side (accounts, the registration drive, rosters,
//! headcounts) in [`people`], and Home Affairs' inspections in
//! [`inspections`].

pub mod inspections;
pub mod people;

pub use inspections::{FINDING_KINDS, FindingInput, InspectionView, Inspections, SentNotification};
pub use people::{CampaignStatus, People, RegistrationReport, UnitRegistration};
