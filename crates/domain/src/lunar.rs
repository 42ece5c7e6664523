//! The Vietnamese lunisolar calendar, computed at UTC+7 with the widely published algorithm
//! of Hồ Ngọc Đức (astronomical new moons and solar terms after Meeus). It differs from the
//! Chinese calendar (UTC+8) in some years: lunar new year 1985 is 21 January in Vietnam.

use crate::{Error, Msg};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// Vietnam's time zone offset in hours, used for new moons and solar terms.
pub const VN_TZ_HOURS: f64 = 7.0;

/// A lunar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LunarDate {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    /// True for a day of the intercalary (leap) month.
    pub leap: bool,
}

/// The first and last solar dates this calendar supports: lunar new year 1900 to the end of 2100.
pub fn supported_range() -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(1900, 1, 31).unwrap_or(NaiveDate::MIN),
        NaiveDate::from_ymd_opt(2100, 12, 31).unwrap_or(NaiveDate::MAX),
    )
}

fn out_of_range(d: impl std::fmt::Display) -> Error {
    Error::OutOfRange(Msg::new(
        format!("Ngày {d} nằm ngoài khoảng hỗ trợ 1900-01-31 .. 2100-12-31"),
        format!("date {d} is outside the supported range 1900-01-31 .. 2100-12-31"),
    ))
}

/// Julian day number of a (proleptic Gregorian) date.
fn jd(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) + 1_721_425
}

fn from_jd(jd: i64) -> Option<NaiveDate> {
    i32::try_from(jd - 1_721_425)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
}

/// Julian date (fractional) of the k-th new moon after 1 January 1900.
fn new_moon(k: f64) -> f64 {
    let t = k / 1236.85;
    let t2 = t * t;
    let t3 = t2 * t;
    let dr = PI / 180.0;
    let mut jd1 = 2415020.75933 + 29.53058868 * k + 0.0001178 * t2 - 0.000000155 * t3;
    jd1 += 0.00033 * ((166.56 + 132.87 * t - 0.009173 * t2) * dr).sin();
    let m = 359.2242 + 29.10535608 * k - 0.0000333 * t2 - 0.00000347 * t3;
    let mpr = 306.0253 + 385.81691806 * k + 0.0107306 * t2 + 0.00001236 * t3;
    let f = 21.2964 + 390.67050646 * k - 0.0016528 * t2 - 0.00000239 * t3;
    let mut c1 = (0.1734 - 0.000393 * t) * (m * dr).sin() + 0.0021 * (2.0 * dr * m).sin();
    c1 = c1 - 0.4068 * (mpr * dr).sin() + 0.0161 * (dr * 2.0 * mpr).sin();
    c1 -= 0.0004 * (dr * 3.0 * mpr).sin();
    c1 = c1 + 0.0104 * (dr * 2.0 * f).sin() - 0.0051 * (dr * (m + mpr)).sin();
    c1 = c1 - 0.0074 * (dr * (m - mpr)).sin() + 0.0004 * (dr * (2.0 * f + m)).sin();
    c1 = c1 - 0.0004 * (dr * (2.0 * f - m)).sin() - 0.0006 * (dr * (2.0 * f + mpr)).sin();
    c1 = c1 + 0.0010 * (dr * (2.0 * f - mpr)).sin() + 0.0005 * (dr * (2.0 * mpr + m)).sin();
    let deltat = if t < -11.0 {
        0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * t * t3
    } else {
        -0.000278 + 0.000265 * t + 0.000262 * t2
    };
    jd1 + c1 - deltat
}

/// Day number of the local day on which the k-th new moon falls.
fn new_moon_day(k: i64, tz: f64) -> i64 {
    (new_moon(k as f64) + 0.5 + tz / 24.0).floor() as i64
}

/// Sun's longitude (radians, 0..2π) at the Julian date `jdn`.
fn sun_longitude(jdn: f64) -> f64 {
    let t = (jdn - 2451545.0) / 36525.0;
    let t2 = t * t;
    let dr = PI / 180.0;
    let m = 357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2;
    let l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2;
    let mut dl = (1.914600 - 0.004817 * t - 0.000014 * t2) * (dr * m).sin();
    dl = dl + (0.019993 - 0.000101 * t) * (dr * 2.0 * m).sin() + 0.000290 * (dr * 3.0 * m).sin();
    let l = (l0 + dl) * dr;
    l - PI * 2.0 * (l / (PI * 2.0)).floor()
}

/// Which of the 12 major solar-term sectors (0..11) the sun is in at the start of `day`.
fn sun_sector(day: i64, tz: f64) -> i64 {
    (sun_longitude(day as f64 - 0.5 - tz / 24.0) / PI * 6.0).floor() as i64
}

/// Day number of the start of lunar month 11 (the month containing the winter solstice)
/// of solar year `yy`.
fn lunar_month_11(yy: i32, tz: f64) -> i64 {
    let off = NaiveDate::from_ymd_opt(yy, 12, 31).map_or(0, jd) - 2415021;
    let k = (off as f64 / 29.530588853).floor() as i64;
    let nm = new_moon_day(k, tz);
    if sun_sector(nm, tz) >= 9 {
        new_moon_day(k - 1, tz)
    } else {
        nm
    }
}

/// Offset (in months after month 11 starting at `a11`) of the leap month of a 13-month year.
fn leap_month_offset(a11: i64, tz: f64) -> i64 {
    let k = ((a11 as f64 - 2415021.076998695) / 29.530588853 + 0.5).floor() as i64;
    let mut i = 1;
    let mut arc = sun_sector(new_moon_day(k + i, tz), tz);
    loop {
        let last = arc;
        i += 1;
        arc = sun_sector(new_moon_day(k + i, tz), tz);
        if arc == last || i >= 14 {
            break;
        }
    }
    i - 1
}

/// Converts a solar date to the Vietnamese lunar date.
pub fn to_lunar(date: NaiveDate) -> Result<LunarDate, Error> {
    let (lo, hi) = supported_range();
    if date < lo || date > hi {
        return Err(out_of_range(date));
    }
    Ok(to_lunar_tz(date, VN_TZ_HOURS))
}

/// The conversion at any time zone (hours east of UTC); 8.0 gives the Chinese calendar.
pub fn to_lunar_tz(date: NaiveDate, tz: f64) -> LunarDate {
    let day_number = jd(date);
    let yy = date.year();
    // The month starts on the last new-moon day not after `date`. The mean-lunation estimate
    // of k can be one off when a true new moon is far from the mean one (e.g. 7 May 2054),
    // so settle it against the actual new-moon days.
    let mut k = ((day_number as f64 - 2415021.076998695) / 29.530588853).floor() as i64;
    while new_moon_day(k + 1, tz) <= day_number {
        k += 1;
    }
    while new_moon_day(k, tz) > day_number {
        k -= 1;
    }
    let month_start = new_moon_day(k, tz);
    let mut a11 = lunar_month_11(yy, tz);
    let mut b11 = a11;
    let mut lunar_year;
    if a11 >= month_start {
        lunar_year = yy;
        a11 = lunar_month_11(yy - 1, tz);
    } else {
        lunar_year = yy + 1;
        b11 = lunar_month_11(yy + 1, tz);
    }
    let day = (day_number - month_start + 1) as u32;
    let diff = ((month_start - a11) as f64 / 29.0).floor() as i64;
    let mut leap = false;
    let mut month = diff + 11;
    if b11 - a11 > 365 {
        let leap_diff = leap_month_offset(a11, tz);
        if diff >= leap_diff {
            month = diff + 10;
            if diff == leap_diff {
                leap = true;
            }
        }
    }
    if month > 12 {
        month -= 12;
    }
    if month >= 11 && diff < 4 {
        lunar_year -= 1;
    }
    LunarDate {
        year: lunar_year,
        month: month as u32,
        day,
        leap,
    }
}

/// Start day number and length (29 or 30) of a lunar month, or `None` if that month
/// does not exist (e.g. a leap month in a year without one).
fn month_bounds(year: i32, month: u32, leap: bool, tz: f64) -> Option<(i64, i64)> {
    if !(1..=12).contains(&month) {
        return None;
    }
    let (a11, b11) = if month < 11 {
        (lunar_month_11(year - 1, tz), lunar_month_11(year, tz))
    } else {
        (lunar_month_11(year, tz), lunar_month_11(year + 1, tz))
    };
    let k = (0.5 + (a11 as f64 - 2415021.076998695) / 29.530588853).floor() as i64;
    let mut off = i64::from(month) - 11;
    if off < 0 {
        off += 12;
    }
    if b11 - a11 > 365 {
        let leap_off = leap_month_offset(a11, tz);
        let mut leap_month = leap_off - 2;
        if leap_month < 0 {
            leap_month += 12;
        }
        if leap && i64::from(month) != leap_month {
            return None;
        } else if leap || off >= leap_off {
            off += 1;
        }
    } else if leap {
        return None;
    }
    let start = new_moon_day(k + off, tz);
    let next = new_moon_day(k + off + 1, tz);
    Some((start, next - start))
}

/// Converts a Vietnamese lunar date to the solar date.
pub fn to_solar(l: LunarDate) -> Result<NaiveDate, Error> {
    let bad = || {
        Error::field(
            "lunar",
            format!(
                "Ngày âm lịch {}/{}{}/{} không tồn tại",
                l.day,
                l.month,
                if l.leap { " nhuận" } else { "" },
                l.year
            ),
            format!(
                "lunar date {}/{}{}/{} does not exist",
                l.day,
                l.month,
                if l.leap { " (leap)" } else { "" },
                l.year
            ),
        )
    };
    if !(1900..=2100).contains(&l.year) {
        return Err(out_of_range(format!(
            "{}/{}/{} (âm lịch/lunar)",
            l.day, l.month, l.year
        )));
    }
    let (start, len) = month_bounds(l.year, l.month, l.leap, VN_TZ_HOURS).ok_or_else(bad)?;
    if l.day == 0 || i64::from(l.day) > len {
        return Err(bad());
    }
    let d = from_jd(start + i64::from(l.day) - 1).ok_or_else(bad)?;
    let (lo, hi) = supported_range();
    if d < lo || d > hi {
        return Err(out_of_range(d));
    }
    Ok(d)
}

/// The solar date of lunar new year (Tết Nguyên đán) of `year`.
pub fn lunar_new_year(year: i32) -> Result<NaiveDate, Error> {
    to_solar(LunarDate {
        year,
        month: 1,
        day: 1,
        leap: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn known_new_years() {
        assert_eq!(lunar_new_year(2025).unwrap(), d(2025, 1, 29));
        assert_eq!(lunar_new_year(2026).unwrap(), d(2026, 2, 17));
        assert_eq!(lunar_new_year(2024).unwrap(), d(2024, 2, 10));
        assert_eq!(lunar_new_year(1900).unwrap(), d(1900, 1, 31));
        // Vietnam and China differ: 1985 new year is 21 January here, 20 February in China.
        assert_eq!(lunar_new_year(1985).unwrap(), d(1985, 1, 21));
        let cn = to_lunar_tz(d(1985, 2, 20), 8.0);
        assert_eq!((cn.month, cn.day), (1, 1));
        let vn = to_lunar(d(1985, 2, 20)).unwrap();
        assert_ne!((vn.month, vn.day), (1, 1));
    }

    #[test]
    fn hung_kings_days() {
        let hk = |y| {
            to_solar(LunarDate {
                year: y,
                month: 3,
                day: 10,
                leap: false,
            })
            .unwrap()
        };
        assert_eq!(hk(2025), d(2025, 4, 7));
        assert_eq!(hk(2026), d(2026, 4, 26));
        assert_eq!(hk(2024), d(2024, 4, 18));
    }

    #[test]
    fn leap_month_2023() {
        // 2023 had a leap 2nd month: 22 March 2023 was 1/2 nhuận.
        let l = to_lunar(d(2023, 3, 22)).unwrap();
        assert_eq!((l.year, l.month, l.day, l.leap), (2023, 2, 1, true));
        assert!(
            to_solar(LunarDate {
                year: 2024,
                month: 2,
                day: 1,
                leap: true
            })
            .is_err()
        );
    }

    #[test]
    fn range_is_enforced() {
        assert!(to_lunar(d(1900, 1, 30)).is_err());
        assert!(to_lunar(d(1900, 1, 31)).is_ok());
        assert!(to_lunar(d(2100, 12, 31)).is_ok());
        assert!(to_lunar(d(2101, 1, 1)).is_err());
    }

    /// Every day of the supported range converts to lunar and back to itself, and lunar
    /// days advance one by one.
    #[test]
    fn round_trip_every_day_1900_2100() {
        let (lo, hi) = supported_range();
        let mut day = lo;
        let mut prev: Option<LunarDate> = None;
        while day <= hi {
            let l = to_lunar(day).unwrap();
            assert_eq!(to_solar(l).unwrap(), day, "{day} -> {l:?}");
            if let Some(p) = prev {
                if l.day != 1 {
                    assert_eq!(l.day, p.day + 1, "{day}");
                    assert_eq!(
                        (l.year, l.month, l.leap),
                        (p.year, p.month, p.leap),
                        "{day}"
                    );
                } else {
                    assert!((29..=30).contains(&p.day), "{day}: month of {} days", p.day);
                }
            }
            prev = Some(l);
            day = day.succ_opt().unwrap();
        }
    }
}
