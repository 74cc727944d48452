//! Lambda runtimes and the dates AWS publishes for each one's deprecation
//! (the "Supported runtimes" and "Deprecated runtimes" tables of the Lambda
//! developer guide, as of 2026-11). Checked against today's date at plan:
//!
//! - from 180 days before deprecation: a warning naming the date and the
//!   replacement;
//! - after deprecation: a warning on existing pipelines;
//! - once creates are blocked: an error for new pipelines;
//! - once updates are blocked: an error for a code or configuration update.
//!
//! Dates move when AWS extends a runtime's support: keep this table in step
//! with the guide.

use tfsdk::schema::Validator;
use tfsdk::value::Value;

/// The runtime used when none is configured.
pub const DEFAULT: &str = "python3.13";

/// A calendar day (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl Day {
    pub const fn new(year: i32, month: u8, day: u8) -> Day {
        Day { year, month, day }
    }

    /// Days since 1970-01-01 (proleptic Gregorian).
    fn ordinal(self) -> i64 {
        let (y, m) = if self.month <= 2 {
            (i64::from(self.year) - 1, i64::from(self.month) + 9)
        } else {
            (i64::from(self.year), i64::from(self.month) - 3)
        };
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let doy = (153 * m + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The day `days` after (or before, when negative) this one.
    pub fn plus(self, days: i64) -> Day {
        let z = self.ordinal() + days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Day {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: u8::try_from(month).unwrap_or(1),
            day: u8::try_from(day).unwrap_or(1),
        }
    }

    /// Today, from the system clock.
    pub fn today() -> Day {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Day::new(1970, 1, 1).plus(i64::try_from(secs / 86_400).unwrap_or(0))
    }
}

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// One runtime's lifecycle.
#[derive(Clone, Copy, Debug)]
pub struct Runtime {
    pub id: &'static str,
    pub deprecation: Day,
    pub block_create: Day,
    pub block_update: Day,
    pub replacement: &'static str,
}

const fn rt(
    id: &'static str,
    deprecation: (i32, u8, u8),
    block_create: (i32, u8, u8),
    block_update: (i32, u8, u8),
    replacement: &'static str,
) -> Runtime {
    Runtime {
        id,
        deprecation: Day::new(deprecation.0, deprecation.1, deprecation.2),
        block_create: Day::new(block_create.0, block_create.1, block_create.2),
        block_update: Day::new(block_update.0, block_update.1, block_update.2),
        replacement,
    }
}

/// Every runtime Lambda has had for .zip packages.
pub const TABLE: &[Runtime] = &[
    rt(
        "python3.14",
        (2029, 6, 30),
        (2029, 7, 31),
        (2029, 8, 31),
        "python3.14",
    ),
    rt(
        "python3.13",
        (2029, 6, 30),
        (2029, 7, 31),
        (2029, 8, 31),
        "python3.14",
    ),
    rt(
        "python3.12",
        (2028, 10, 31),
        (2028, 11, 30),
        (2029, 1, 10),
        "python3.13",
    ),
    rt(
        "python3.11",
        (2027, 6, 30),
        (2027, 7, 31),
        (2027, 8, 31),
        "python3.13",
    ),
    rt(
        "python3.10",
        (2026, 10, 31),
        (2026, 11, 30),
        (2027, 1, 15),
        "python3.13",
    ),
    rt(
        "python3.9",
        (2025, 12, 15),
        (2026, 1, 15),
        (2026, 2, 15),
        "python3.13",
    ),
    rt(
        "python3.8",
        (2024, 10, 14),
        (2025, 2, 28),
        (2025, 3, 31),
        "python3.13",
    ),
    rt(
        "python3.7",
        (2023, 12, 4),
        (2024, 1, 9),
        (2025, 2, 28),
        "python3.13",
    ),
    rt(
        "python3.6",
        (2022, 7, 18),
        (2022, 7, 18),
        (2022, 8, 29),
        "python3.13",
    ),
    rt(
        "python2.7",
        (2021, 7, 15),
        (2021, 7, 15),
        (2022, 5, 30),
        "python3.13",
    ),
    rt(
        "nodejs24.x",
        (2028, 4, 30),
        (2028, 6, 1),
        (2028, 7, 1),
        "nodejs24.x",
    ),
    rt(
        "nodejs22.x",
        (2027, 4, 30),
        (2027, 6, 1),
        (2027, 7, 1),
        "nodejs24.x",
    ),
    rt(
        "nodejs20.x",
        (2026, 4, 30),
        (2026, 8, 31),
        (2026, 9, 30),
        "nodejs24.x",
    ),
    rt(
        "nodejs18.x",
        (2025, 9, 1),
        (2025, 10, 1),
        (2025, 11, 1),
        "nodejs24.x",
    ),
    rt(
        "nodejs16.x",
        (2024, 6, 12),
        (2025, 2, 28),
        (2025, 3, 31),
        "nodejs24.x",
    ),
    rt(
        "nodejs14.x",
        (2023, 12, 4),
        (2024, 7, 9),
        (2025, 2, 28),
        "nodejs24.x",
    ),
    rt(
        "nodejs12.x",
        (2023, 3, 31),
        (2023, 3, 31),
        (2023, 4, 30),
        "nodejs24.x",
    ),
    rt(
        "nodejs10.x",
        (2021, 7, 30),
        (2021, 7, 30),
        (2022, 2, 14),
        "nodejs24.x",
    ),
    rt(
        "nodejs8.10",
        (2020, 3, 6),
        (2020, 3, 6),
        (2020, 3, 6),
        "nodejs24.x",
    ),
    rt(
        "nodejs6.10",
        (2019, 8, 12),
        (2019, 8, 12),
        (2019, 8, 12),
        "nodejs24.x",
    ),
    rt(
        "nodejs4.3",
        (2020, 3, 5),
        (2020, 3, 5),
        (2020, 3, 5),
        "nodejs24.x",
    ),
    rt(
        "nodejs",
        (2016, 10, 31),
        (2016, 10, 31),
        (2016, 10, 31),
        "nodejs24.x",
    ),
    rt(
        "java25",
        (2029, 6, 30),
        (2029, 7, 31),
        (2029, 8, 31),
        "java25",
    ),
    rt(
        "java21",
        (2029, 6, 30),
        (2029, 7, 31),
        (2029, 8, 31),
        "java25",
    ),
    rt(
        "java17",
        (2027, 6, 30),
        (2027, 7, 31),
        (2027, 8, 31),
        "java21",
    ),
    rt(
        "java11",
        (2027, 6, 30),
        (2027, 7, 31),
        (2027, 8, 31),
        "java21",
    ),
    rt(
        "java8.al2",
        (2027, 6, 30),
        (2027, 7, 31),
        (2027, 8, 31),
        "java21",
    ),
    rt("java8", (2024, 1, 8), (2024, 2, 8), (2025, 2, 28), "java21"),
    rt(
        "dotnet10",
        (2028, 11, 14),
        (2028, 12, 14),
        (2029, 1, 15),
        "dotnet10",
    ),
    rt(
        "dotnet8",
        (2026, 11, 10),
        (2026, 12, 10),
        (2027, 1, 11),
        "dotnet10",
    ),
    rt(
        "dotnet7",
        (2024, 5, 14),
        (2024, 5, 14),
        (2024, 5, 14),
        "dotnet10",
    ),
    rt(
        "dotnet6",
        (2024, 11, 12),
        (2025, 2, 28),
        (2025, 5, 31),
        "dotnet10",
    ),
    rt(
        "dotnetcore3.1",
        (2023, 4, 3),
        (2023, 4, 3),
        (2023, 5, 3),
        "dotnet10",
    ),
    rt(
        "dotnetcore2.1",
        (2022, 1, 5),
        (2022, 1, 5),
        (2022, 4, 13),
        "dotnet10",
    ),
    rt(
        "dotnetcore2.0",
        (2019, 5, 30),
        (2019, 5, 30),
        (2019, 5, 30),
        "dotnet10",
    ),
    rt(
        "dotnetcore1.0",
        (2019, 6, 27),
        (2019, 7, 30),
        (2019, 7, 30),
        "dotnet10",
    ),
    rt(
        "ruby3.4",
        (2028, 3, 31),
        (2028, 4, 30),
        (2028, 5, 31),
        "ruby3.4",
    ),
    rt(
        "ruby3.3",
        (2027, 3, 31),
        (2027, 4, 30),
        (2027, 5, 31),
        "ruby3.4",
    ),
    rt(
        "ruby3.2",
        (2026, 3, 31),
        (2026, 6, 1),
        (2026, 7, 1),
        "ruby3.4",
    ),
    rt(
        "ruby2.7",
        (2023, 12, 7),
        (2024, 1, 9),
        (2025, 2, 28),
        "ruby3.4",
    ),
    rt(
        "ruby2.5",
        (2021, 7, 30),
        (2021, 7, 30),
        (2022, 3, 31),
        "ruby3.4",
    ),
    rt(
        "provided.al2023",
        (2029, 6, 30),
        (2029, 7, 31),
        (2029, 8, 31),
        "provided.al2023",
    ),
    rt(
        "provided.al2",
        (2027, 6, 30),
        (2027, 7, 31),
        (2027, 8, 31),
        "provided.al2023",
    ),
    rt(
        "provided",
        (2024, 1, 8),
        (2024, 2, 8),
        (2025, 2, 28),
        "provided.al2023",
    ),
    rt(
        "go1.x",
        (2024, 1, 8),
        (2024, 2, 8),
        (2025, 2, 28),
        "provided.al2023",
    ),
];

/// The operating system a Lambda runtime runs on, as far as native code
/// cares: its glibc. One row per OS.
///
/// Facts (checked 2026-12): the Lambda developer guide's Python runtimes
/// table lists python3.12 and python3.13 (and the newer python3.14) on
/// Amazon Linux 2023 and python3.9, python3.10 and python3.11 on Amazon
/// Linux 2; python3.8 ran on Amazon Linux 2 and python3.7 and older on
/// Amazon Linux (1). The Amazon Linux 2023 user guide ("Core toolchain
/// packages glibc, gcc, binutils", and its AL2 comparison table) gives
/// glibc 2.34 for AL2023 and 2.26 for AL2; Amazon Linux 1 had 2.17.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Os {
    pub name: &'static str,
    /// glibc's version, (major, minor).
    pub glibc: (u32, u32),
}

pub const AMAZON_LINUX_2023: Os = Os {
    name: "Amazon Linux 2023",
    glibc: (2, 34),
};
pub const AMAZON_LINUX_2: Os = Os {
    name: "Amazon Linux 2",
    glibc: (2, 26),
};
pub const AMAZON_LINUX_1: Os = Os {
    name: "Amazon Linux",
    glibc: (2, 17),
};

/// The OS of a Python runtime (`python3.12`, …): Amazon Linux 2023 from
/// 3.12 on (and for the ones to come), Amazon Linux 2 for 3.8 to 3.11,
/// Amazon Linux for older ones. `None` for a runtime that is not
/// `python3.N`.
pub fn python_os(id: &str) -> Option<Os> {
    let minor: u32 = id.strip_prefix("python3.")?.parse().ok()?;
    Some(match minor {
        12.. => AMAZON_LINUX_2023,
        8..=11 => AMAZON_LINUX_2,
        _ => AMAZON_LINUX_1,
    })
}

/// How long before deprecation the plan starts warning.
pub const WARN_DAYS_BEFORE: i64 = 180;

pub fn lookup(id: &str) -> Option<&'static Runtime> {
    TABLE.iter().find(|r| r.id == id)
}

/// What the plan is doing with a runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    /// A new function (create, or replace).
    Create,
    /// An existing function whose code or configuration changes.
    Update,
    /// An existing function that stays as it is.
    Keep,
}

/// What the date says about using `id` for `usage` on `today`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Fine,
    Warning(String),
    Error(String),
}

pub fn verdict(id: &str, usage: Use, today: Day) -> Verdict {
    let Some(r) = lookup(id) else {
        return Verdict::Error(format!(
            "{id:?} is not a Lambda runtime; current runtimes include {}",
            current(today).join(", ")
        ));
    };
    let instead = if r.replacement == r.id {
        String::new()
    } else {
        format!("; use {:?} instead", r.replacement)
    };
    if today >= r.block_update && usage != Use::Keep {
        return Verdict::Error(format!(
            "{id:?} was deprecated on {} and Lambda refuses creating or updating functions that \
             use it since {}{instead}",
            r.deprecation, r.block_update
        ));
    }
    if today >= r.block_create && usage == Use::Create {
        return Verdict::Error(format!(
            "{id:?} was deprecated on {} and Lambda refuses new functions that use it since \
             {}{instead}",
            r.deprecation, r.block_create
        ));
    }
    if today >= r.deprecation {
        return Verdict::Warning(format!(
            "{id:?} was deprecated on {}: it gets no more security patches, Lambda blocks new \
             functions from {} and updates from {}{instead}",
            r.deprecation, r.block_create, r.block_update
        ));
    }
    if today >= r.deprecation.plus(-WARN_DAYS_BEFORE) {
        return Verdict::Warning(format!(
            "{id:?} is deprecated on {} (new functions are blocked from {}, updates from \
             {}){instead}",
            r.deprecation, r.block_create, r.block_update
        ));
    }
    Verdict::Fine
}

/// Runtimes that are not deprecated on `today`, newest first per family.
pub fn current(today: Day) -> Vec<&'static str> {
    TABLE
        .iter()
        .filter(|r| today < r.deprecation)
        .map(|r| r.id)
        .collect()
}

fn check(value: &Value) -> Result<(), String> {
    let runtime = value.as_str().ok_or("expected a string")?;
    match lookup(runtime) {
        Some(_) => Ok(()),
        None => Err(format!(
            "{runtime:?} is not a Lambda runtime; current runtimes include {}",
            current(Day::today()).join(", ")
        )),
    }
}

/// The schema's check: a runtime identifier Lambda knows. Whether its
/// date allows it is decided at plan, where create and update differ.
pub fn validator() -> Validator {
    Validator::Custom {
        doc: "Deprecated runtimes get a warning from 180 days before their deprecation date \
              and are refused once Lambda blocks creating (new pipelines) or updating (code or \
              configuration changes) functions with them; the message names the replacement.",
        check,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: Day = Day::new(2026, 12, 1);

    #[test]
    fn each_python_runtime_has_its_os_and_glibc() {
        for id in ["python3.12", "python3.13", "python3.14", "python3.15"] {
            assert_eq!(python_os(id), Some(AMAZON_LINUX_2023), "{id}");
        }
        for id in ["python3.8", "python3.9", "python3.10", "python3.11"] {
            assert_eq!(python_os(id), Some(AMAZON_LINUX_2), "{id}");
        }
        assert_eq!(python_os("python3.7"), Some(AMAZON_LINUX_1));
        assert_eq!(python_os("nodejs22.x"), None);
        assert_eq!(python_os("python3.x"), None);
        assert_eq!(AMAZON_LINUX_2023.glibc, (2, 34));
        assert_eq!(AMAZON_LINUX_2.glibc, (2, 26));
        // Every Python runtime in the table has an OS.
        for r in TABLE.iter().filter(|r| r.id.starts_with("python3.")) {
            assert!(python_os(r.id).is_some(), "{}", r.id);
        }
    }

    #[test]
    fn days_count_and_print_as_calendar_dates() {
        assert_eq!(Day::new(2026, 12, 1).plus(31).to_string(), "2027-01-01");
        assert_eq!(Day::new(2024, 3, 1).plus(-1).to_string(), "2024-02-29");
        assert_eq!(Day::new(2029, 6, 30).plus(-180).to_string(), "2029-01-01");
        assert!(Day::new(2026, 11, 30) < Day::new(2026, 12, 1));
    }

    #[test]
    fn a_current_runtime_is_fine_and_the_default_is_current() {
        assert_eq!(verdict("python3.13", Use::Create, TODAY), Verdict::Fine);
        assert_eq!(verdict(DEFAULT, Use::Create, Day::today()), Verdict::Fine);
    }

    #[test]
    fn the_warning_starts_180_days_before_deprecation_and_names_the_replacement() {
        let r = lookup("nodejs22.x").unwrap();
        let before = r.deprecation.plus(-181);
        assert_eq!(verdict(r.id, Use::Create, before), Verdict::Fine);
        let Verdict::Warning(w) = verdict(r.id, Use::Create, r.deprecation.plus(-180)) else {
            panic!("a warning 180 days before");
        };
        assert!(w.contains("2027-04-30") && w.contains("nodejs24.x"), "{w}");
    }

    #[test]
    fn after_deprecation_existing_pipelines_are_warned_new_ones_refused_once_blocked() {
        let r = lookup("dotnet8").unwrap();
        // Deprecated 2026-11-10, creates blocked from 2026-12-10.
        assert!(matches!(
            verdict(r.id, Use::Keep, TODAY),
            Verdict::Warning(_)
        ));
        assert!(matches!(
            verdict(r.id, Use::Create, TODAY),
            Verdict::Warning(_)
        ));
        let blocked = r.block_create;
        assert!(matches!(
            verdict(r.id, Use::Create, blocked),
            Verdict::Error(_)
        ));
        assert!(matches!(
            verdict(r.id, Use::Update, blocked),
            Verdict::Warning(_)
        ));
        assert!(matches!(
            verdict(r.id, Use::Keep, blocked),
            Verdict::Warning(_)
        ));
    }

    #[test]
    fn once_updates_are_blocked_changes_are_refused_but_an_unchanged_pipeline_is_not() {
        let r = lookup("python3.9").unwrap();
        let Verdict::Error(e) = verdict(r.id, Use::Update, TODAY) else {
            panic!("updates are blocked");
        };
        assert!(e.contains("2026-02-15") && e.contains("python3.13"), "{e}");
        assert!(matches!(
            verdict(r.id, Use::Keep, TODAY),
            Verdict::Warning(_)
        ));
        assert!(matches!(
            verdict("cobol", Use::Keep, TODAY),
            Verdict::Error(_)
        ));
    }

    #[test]
    fn the_table_is_consistent() {
        for r in TABLE {
            assert!(r.deprecation <= r.block_create, "{}", r.id);
            assert!(r.block_create <= r.block_update, "{}", r.id);
            let next = lookup(r.replacement).expect("the replacement is in the table");
            assert!(next.deprecation >= r.deprecation, "{}", r.id);
        }
    }
}
