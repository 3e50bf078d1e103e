//! Oversight: the people side (accounts, the registration drive, rosters,
//! headcounts) in [`people`], and Home Affairs' inspections in
//! [`inspections`].

pub mod inspections;
pub mod notifications;
pub mod people;

pub use inspections::{FINDING_KINDS, FindingInput, InspectionView, Inspections, SentNotification};
pub use notifications::{Notifications, UnitNotification, UnitNotifications};
pub use people::{CampaignStatus, People, RegistrationReport, UnitRegistration};
