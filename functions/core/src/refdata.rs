//! Reference data: units, categories, the SLA policy and the working
//! calendar. The data lives in `infra/data/*.json` (with its provenance) and
//! is compiled into every binary, so a Lambda needs no file system; a city
//! can point `PAKN_REFDATA_DIR` at its own copy of that folder instead.

use crate::calendar::WorkingCalendar;
use crate::category::{Category, SlaPolicy};
use crate::unit::{Unit, UnitCode};
use chrono::{NaiveDate, NaiveTime, Weekday};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

const WARDS: &str = include_str!("../../../infra/data/wards.json");
const DEPARTMENTS: &str = include_str!("../../../infra/data/departments.json");
const CATEGORIES: &str = include_str!("../../../infra/data/categories.json");
const POLICY: &str = include_str!("../../../infra/data/policy.json");
const HOLIDAYS: &str = include_str!("../../../infra/data/holidays.json");
const CALENDAR: &str = include_str!("../../../infra/data/calendar.json");

pub const FILES: [&str; 6] = [
    "wards.json",
    "departments.json",
    "categories.json",
    "policy.json",
    "holidays.json",
    "calendar.json",
];

/// Everything the domain needs to know about the city.
#[derive(Debug, Clone)]
pub struct RefData {
    pub units: BTreeMap<UnitCode, Unit>,
    pub categories: Vec<Category>,
    pub policy: SlaPolicy,
    pub calendar: WorkingCalendar,
}

#[derive(Deserialize)]
struct WardsFile {
    city: CityRow,
    wards: Vec<WardRow>,
}
#[derive(Deserialize)]
struct CityRow {
    name: String,
}
#[derive(Deserialize)]
struct WardRow {
    code: String,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    name_en: String,
}
#[derive(Deserialize)]
struct UnitsFile {
    units: Vec<Unit>,
}
#[derive(Deserialize)]
struct CategoriesFile {
    categories: Vec<Category>,
}
#[derive(Deserialize)]
struct HolidaysFile {
    years: BTreeMap<String, HolidayYear>,
}
#[derive(Deserialize)]
struct HolidayYear {
    days_off: Vec<DateRow>,
    extra_working_days: Vec<DateRow>,
}
#[derive(Deserialize)]
struct DateRow {
    date: NaiveDate,
}
#[derive(Deserialize)]
struct CalendarFile {
    utc_offset_hours: i32,
    office_hours: Vec<(String, String)>,
    working_weekdays: Vec<String>,
    #[serde(default)]
    extra_days_off: Vec<NaiveDate>,
    #[serde(default)]
    extra_working_days: Vec<NaiveDate>,
}

impl RefData {
    /// The data compiled into the binary (Hanoi, as shipped in `infra/data`).
    pub fn embedded() -> Self {
        Self::parse([WARDS, DEPARTMENTS, CATEGORIES, POLICY, HOLIDAYS, CALENDAR])
            .expect("embedded reference data is valid (checked by tests)")
    }

    /// Load the six files from a folder laid out like `infra/data`.
    pub fn from_dir(dir: &Path) -> Result<Self, String> {
        let mut texts = Vec::new();
        for f in FILES {
            let p = dir.join(f);
            texts.push(std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?);
        }
        let arr: [&str; 6] = std::array::from_fn(|i| texts[i].as_str());
        Self::parse(arr)
    }

    fn parse(t: [&str; 6]) -> Result<Self, String> {
        fn ctx(f: &'static str) -> impl Fn(serde_json::Error) -> String {
            move |e| format!("{f}: {e}")
        }
        let wards: WardsFile = serde_json::from_str(t[0]).map_err(ctx("wards.json"))?;
        let depts: UnitsFile = serde_json::from_str(t[1]).map_err(ctx("departments.json"))?;
        let cats: CategoriesFile = serde_json::from_str(t[2]).map_err(ctx("categories.json"))?;
        let policy: SlaPolicy = serde_json::from_str(t[3]).map_err(ctx("policy.json"))?;
        let hol: HolidaysFile = serde_json::from_str(t[4]).map_err(ctx("holidays.json"))?;
        let cal: CalendarFile = serde_json::from_str(t[5]).map_err(ctx("calendar.json"))?;

        let mut units = BTreeMap::new();
        let city = UnitCode::try_from("city:hanoi".to_string())?;
        for u in depts.units {
            units.insert(u.code.clone(), u);
        }
        if let Some(c) = units.get_mut(&city) {
            c.name_vi = wards
                .city
                .name
                .clone()
                .replace("Thành phố", "Ủy ban nhân dân Thành phố");
        }
        for w in wards.wards {
            let code = UnitCode::try_from(format!("ward:{}", w.code))?;
            let unit_type = if w.kind == "xã" { "commune" } else { "ward" };
            units.insert(
                code.clone(),
                Unit {
                    code,
                    name_vi: w.name,
                    name_en: w.name_en,
                    unit_type: unit_type.into(),
                    parent: Some(city.clone()),
                },
            );
        }
        for u in units.values() {
            if let Some(p) = &u.parent {
                if !units.contains_key(p) {
                    return Err(format!("unit {} names unknown parent {p}", u.code));
                }
            }
        }
        for c in &cats.categories {
            if let crate::category::Responsible::Unit(u) = &c.responsible {
                if !units.contains_key(u) {
                    return Err(format!("category {} names unknown unit {u}", c.code));
                }
            }
        }
        for code in policy.categories.keys() {
            if !cats.categories.iter().any(|c| &c.code == code) {
                return Err(format!("policy.json overrides unknown category {code}"));
            }
        }

        let parse_t = |s: &str| {
            NaiveTime::parse_from_str(s, "%H:%M")
                .map_err(|e| format!("calendar.json time {s}: {e}"))
        };
        let mut periods = Vec::new();
        for (a, b) in &cal.office_hours {
            periods.push((parse_t(a)?, parse_t(b)?));
        }
        let weekdays: Vec<Weekday> = cal
            .working_weekdays
            .iter()
            .map(|d| {
                d.parse::<Weekday>()
                    .map_err(|_| format!("calendar.json weekday {d}"))
            })
            .collect::<Result<_, _>>()?;
        let mut days_off: Vec<NaiveDate> = hol
            .years
            .values()
            .flat_map(|y| y.days_off.iter().map(|d| d.date))
            .collect();
        days_off.extend(cal.extra_days_off);
        let mut extra: Vec<NaiveDate> = hol
            .years
            .values()
            .flat_map(|y| y.extra_working_days.iter().map(|d| d.date))
            .collect();
        extra.extend(cal.extra_working_days);
        let calendar =
            WorkingCalendar::new(cal.utc_offset_hours, periods, &weekdays, days_off, extra)?;

        Ok(RefData {
            units,
            categories: cats.categories,
            policy,
            calendar,
        })
    }

    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }

    pub fn unit(&self, code: &UnitCode) -> Option<&Unit> {
        self.units.get(code)
    }

    /// Is `child` the same as `ancestor` or below it in the unit tree?
    pub fn is_within(&self, child: &UnitCode, ancestor: &UnitCode) -> bool {
        let mut cur = Some(child.clone());
        let mut guard = 0;
        while let Some(c) = cur {
            if &c == ancestor {
                return true;
            }
            guard += 1;
            if guard > 64 {
                return false;
            }
            cur = self.units.get(&c).and_then(|u| u.parent.clone());
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_data_loads_hanoi() {
        let r = RefData::embedded();
        let wards = r
            .units
            .values()
            .filter(|u| u.code.as_str().starts_with("ward:"))
            .count();
        assert_eq!(wards, 126);
        assert_eq!(
            r.unit(&UnitCode::ward("00070")).unwrap().name_vi,
            "Phường Hoàn Kiếm"
        );
        assert!(r.unit(&UnitCode::triage()).is_some());
        assert!(
            r.unit(&UnitCode::parse("dept:home-affairs").unwrap())
                .is_some()
        );
        assert!(r.categories.len() >= 15);
        assert!(r.is_within(
            &UnitCode::ward("00070"),
            &UnitCode::parse("city:hanoi").unwrap()
        ));
        assert!(r.is_within(
            &UnitCode::parse("dept:natural-resources").unwrap(),
            &UnitCode::parse("dept:environment").unwrap()
        ));
        // Tết 2025 is off, the 2024 swap Saturday is worked.
        assert!(
            !r.calendar
                .is_working_day(NaiveDate::from_ymd_opt(2025, 1, 29).unwrap())
        );
        assert!(
            r.calendar
                .is_working_day(NaiveDate::from_ymd_opt(2024, 5, 4).unwrap())
        );
    }
}
