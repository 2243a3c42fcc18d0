//! Cron schedules (`*/5 * * * *`): the five standard fields, parsed into the sets of values
//! they allow. Occurrences are then found by Postgres (see `scheduled.rs`), which already knows
//! calendars, so no date library is needed here. Schedules are in UTC, as in Hasura.

use crate::EventsError;

/// The allowed values of each field; `*_any` records a field written as `*` (or `*/n`), which
/// changes how day-of-month and day-of-week combine (as in Vixie cron: both restricted means
/// either may match).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule {
    pub minutes: Vec<i32>,
    pub hours: Vec<i32>,
    pub days_of_month: Vec<i32>,
    pub months: Vec<i32>,
    pub days_of_week: Vec<i32>,
    pub day_of_month_any: bool,
    pub day_of_week_any: bool,
}

const MONTH_NAMES: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl CronSchedule {
    pub fn parse(schedule: &str) -> Result<CronSchedule, EventsError> {
        let invalid = |reason: String| EventsError::InvalidSchedule {
            schedule: schedule.to_string(),
            reason,
        };
        let fields: Vec<&str> = schedule.split_whitespace().collect();
        let [minute, hour, dom, month, dow] = fields.as_slice() else {
            return Err(invalid(format!(
                "expected 5 fields (minute hour day-of-month month day-of-week), found {}",
                fields.len()
            )));
        };
        let mut days_of_week = parse_field(dow, 0, 7, &DAY_NAMES, 0).map_err(&invalid)?;
        for day in &mut days_of_week {
            if *day == 7 {
                *day = 0;
            }
        }
        days_of_week.sort_unstable();
        days_of_week.dedup();
        Ok(CronSchedule {
            minutes: parse_field(minute, 0, 59, &[], 0).map_err(&invalid)?,
            hours: parse_field(hour, 0, 23, &[], 0).map_err(&invalid)?,
            days_of_month: parse_field(dom, 1, 31, &[], 0).map_err(&invalid)?,
            months: parse_field(month, 1, 12, &MONTH_NAMES, 1).map_err(&invalid)?,
            days_of_week,
            day_of_month_any: dom.starts_with('*'),
            day_of_week_any: dow.starts_with('*'),
        })
    }
}

/// One field: comma-separated `*`, `n`, `a-b`, each optionally `/step`; names allowed where
/// `names` is given (their index plus `name_base` is the value).
fn parse_field(
    field: &str,
    min: i32,
    max: i32,
    names: &[&str],
    name_base: i32,
) -> Result<Vec<i32>, String> {
    let value = |text: &str| -> Result<i32, String> {
        if let Some(index) = names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
            return Ok(index as i32 + name_base);
        }
        let number: i32 = text
            .parse()
            .map_err(|_| format!("\"{text}\" is not a number"))?;
        if number < min || number > max {
            return Err(format!("{number} is outside {min}-{max}"));
        }
        Ok(number)
    };
    let mut out = Vec::new();
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => {
                let step: i32 = step
                    .parse()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("invalid step \"{step}\""))?;
                (range, step)
            }
            None => (part, 1),
        };
        let (low, high) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a)?, value(b)?)
        } else {
            let single = value(range)?;
            // `5/10` means from 5 to the end, every 10
            (single, if step > 1 { max } else { single })
        };
        if low > high {
            return Err(format!("range {low}-{high} is empty"));
        }
        let mut current = low;
        while current <= high {
            out.push(current);
            current += step;
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_steps_ranges_lists_and_names() {
        let every_five = CronSchedule::parse("*/5 * * * *").unwrap();
        assert_eq!(every_five.minutes, (0..60).step_by(5).collect::<Vec<_>>());
        assert!(every_five.day_of_month_any && every_five.day_of_week_any);
        let weekdays = CronSchedule::parse("0 9-17/4 1,15 JAN-MAR MON-FRI").unwrap();
        assert_eq!(weekdays.hours, vec![9, 13, 17]);
        assert_eq!(weekdays.days_of_month, vec![1, 15]);
        assert_eq!(weekdays.months, vec![1, 2, 3]);
        assert_eq!(weekdays.days_of_week, vec![1, 2, 3, 4, 5]);
        assert_eq!(
            CronSchedule::parse("0 0 * * 7").unwrap().days_of_week,
            vec![0]
        );
    }

    #[test]
    fn rejects_bad_schedules() {
        for bad in [
            "* * * *",
            "60 * * * *",
            "*/0 * * * *",
            "5-1 * * * *",
            "x * * * *",
        ] {
            assert!(CronSchedule::parse(bad).is_err(), "{bad}");
        }
    }
}
