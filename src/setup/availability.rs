//! The availability pane: the time zone, weekly hours, booking rules and blocked times the
//! slot engine will read.
// The save function takes one argument per form field, as server functions do.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{SaveButton, TracksEdits};
use crate::domain::availability::{
    self, parse_day, parse_rule, DAY_FIELDS, MINUTES_PER_DAY, RULE_FIELDS, WEEKDAYS,
};
use crate::error::AppError;
use crate::ui::{load_failed, FormAlert, FormField, SaveOutcome, Validate};

/// The browser-side check of each booking rule, in the order of [`RULE_FIELDS`].
const RULE_CHECKS: [Validate; 5] = [
    check_rule::<0>,
    check_rule::<1>,
    check_rule::<2>,
    check_rule::<3>,
    check_rule::<4>,
];

fn check_rule<const INDEX: usize>(input: &str) -> Result<(), String> {
    parse_rule(INDEX, input).map(drop)
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailabilityForm {
    /// Blank until saved; the browser then suggests its own zone.
    pub time_zone: String,
    /// Monday first, as `09:00-13:00, 14:00-18:00`.
    pub days: Vec<String>,
    /// In the order of [`RULE_FIELDS`].
    pub rules: Vec<String>,
    /// Every IANA zone name, for the searchable list.
    pub zones: Vec<String>,
}

/// An upcoming blocked time, described in the doctor's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockedView {
    pub id: String,
    pub when: String,
    pub reason: String,
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use jiff::civil::Date;
    use jiff::tz::TimeZone;
    use jiff::Timestamp;

    use crate::domain::availability::{clock, BlockedInput, MINUTES_PER_DAY};
    use crate::domain::FieldErrors;
    use crate::error::AppError;

    pub fn zone(name: &str) -> Result<TimeZone, String> {
        let name = name.trim();
        if name.is_empty() {
            return Err("Choose your time zone.".into());
        }
        TimeZone::get(name)
            .map_err(|_| format!("“{name}” is not a time zone we know; pick one from the list."))
    }

    /// The zone's name as the database spells it, whatever case the doctor typed.
    pub fn canonical_zone_name(name: &str) -> Result<String, String> {
        let zone = zone(name)?;
        Ok(zone.iana_name().unwrap_or(name.trim()).to_owned())
    }

    pub fn zone_names() -> Vec<String> {
        let mut names: Vec<String> = jiff::tz::db()
            .available()
            .map(|name| name.as_str().to_owned())
            .filter(|name| name.contains('/') && !name.starts_with("Etc/"))
            .collect();
        names.sort();
        names
    }

    fn instant(date: Date, minute: u16, zone: &TimeZone) -> Result<i64, AppError> {
        // 24:00 is the start of the next day; an hour skipped by DST resolves to the later side.
        let (date, minute) = if minute == MINUTES_PER_DAY {
            (
                date.tomorrow()
                    .map_err(|e| AppError::internal("date overflow", e))?,
                0,
            )
        } else {
            (date, minute)
        };
        let time = jiff::civil::Time::new((minute / 60) as i8, (minute % 60) as i8, 0, 0)
            .map_err(|e| AppError::internal("clock out of range", e))?;
        let zoned = date
            .to_datetime(time)
            .to_zoned(zone.clone())
            .map_err(|e| AppError::internal("local time not convertible", e))?;
        Ok(zoned.timestamp().as_millisecond())
    }

    /// The UTC instants a blocked time covers.
    pub fn block_span(input: &BlockedInput, zone: &TimeZone) -> Result<(i64, i64), AppError> {
        let date = Date::new(input.date.year, input.date.month, input.date.day).map_err(|_| {
            AppError::Invalid(FieldErrors::single("date", "That date does not exist."))
        })?;
        let (start, end) = input
            .span
            .map_or((0, MINUTES_PER_DAY), |span| (span.start, span.end));
        Ok((instant(date, start, zone)?, instant(date, end, zone)?))
    }

    /// `Thu 24 Dec 2026, all day` or `Thu 24 Dec 2026, 13:00–15:00`, in the doctor's zone.
    pub fn describe(starts_at: i64, ends_at: i64, all_day: bool, zone: &TimeZone) -> String {
        let at = |ms: i64| {
            Timestamp::from_millisecond(ms)
                .unwrap_or_default()
                .to_zoned(zone.clone())
        };
        let (start, end) = (at(starts_at), at(ends_at));
        let day = start.strftime("%a %-d %b %Y").to_string();
        if all_day {
            return format!("{day}, all day");
        }
        let minute = |z: &jiff::Zoned| (z.hour() as u16) * 60 + z.minute() as u16;
        let end_minute = if end.date() > start.date() {
            MINUTES_PER_DAY
        } else {
            minute(&end)
        };
        format!("{day}, {}–{}", clock(minute(&start)), clock(end_minute))
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::domain::availability::{LocalDate, TimeRange};

        fn whole_day(year: i16, month: i8, day: i8) -> BlockedInput {
            BlockedInput {
                date: LocalDate { year, month, day },
                span: None,
                reason: None,
            }
        }

        fn hours(span: (i64, i64)) -> f64 {
            (span.1 - span.0) as f64 / 3_600_000.0
        }

        #[test]
        fn zones_are_iana_names_and_the_list_holds_the_ones_we_serve() {
            let names = zone_names();
            for name in [
                "Asia/Kolkata",
                "America/New_York",
                "Europe/London",
                "Australia/Lord_Howe",
            ] {
                assert!(zone(name).is_ok(), "{name}");
                assert!(
                    names.iter().any(|n| n == name),
                    "{name} missing from the list"
                );
            }
            assert!(
                names.windows(2).all(|w| w[0] < w[1]),
                "sorted, no duplicates"
            );
            assert_eq!(
                canonical_zone_name(" asia/kolkata ").unwrap(),
                "Asia/Kolkata"
            );
            for bad in ["", "Mars/Olympus_Mons", "+05:30"] {
                assert!(zone(bad).is_err(), "{bad:?}");
            }
        }

        #[test]
        fn a_blocked_day_lasts_as_long_as_that_local_day() {
            let london = zone("Europe/London").unwrap();
            assert_eq!(
                hours(block_span(&whole_day(2026, 3, 29), &london).unwrap()),
                23.0
            );
            assert_eq!(
                hours(block_span(&whole_day(2026, 10, 25), &london).unwrap()),
                25.0
            );
            let lord_howe = zone("Australia/Lord_Howe").unwrap();
            assert_eq!(
                hours(block_span(&whole_day(2026, 10, 4), &lord_howe).unwrap()),
                23.5
            );
            let kolkata = zone("Asia/Kolkata").unwrap();
            assert_eq!(
                hours(block_span(&whole_day(2026, 3, 8), &kolkata).unwrap()),
                24.0
            );
        }

        #[test]
        fn a_blocked_range_in_a_skipped_hour_starts_after_the_gap() {
            // New York skips 02:00-03:00 on 2026-03-08; 02:30 does not exist that day.
            let new_york = zone("America/New_York").unwrap();
            let input = BlockedInput {
                date: LocalDate {
                    year: 2026,
                    month: 3,
                    day: 8,
                },
                span: Some(TimeRange {
                    start: 150,
                    end: 240,
                }),
                reason: None,
            };
            let (start, end) = block_span(&input, &new_york).unwrap();
            assert!(start < end);
            assert_eq!(
                describe(start, end, false, &new_york),
                "Sun 8 Mar 2026, 03:30–04:00"
            );
        }
    }
}

#[server(endpoint = "setup/availability")]
pub async fn availability() -> Result<AvailabilityForm, AppError> {
    use crate::domain::availability::BookingRules;

    crate::context::for_doctor(async |db, doctor| {
        let mut tx = db.tenant(doctor).await?;
        let stored = crate::db::availability::load(&mut tx).await?;
        tx.commit().await?;
        let (time_zone, rules) = stored
            .settings
            .unwrap_or_else(|| (String::new(), BookingRules::default()));
        Ok(AvailabilityForm {
            time_zone,
            days: stored
                .week
                .0
                .iter()
                .map(|d| availability::format_day(d))
                .collect(),
            rules: [
                rules.appointment_minutes,
                rules.gap_minutes,
                rules.notice_hours,
                rules.horizon_days,
                rules.hold_minutes,
            ]
            .iter()
            .map(u32::to_string)
            .collect(),
            zones: ssr::zone_names(),
        })
    })
    .await
}

#[server(endpoint = "setup/availability/save")]
pub async fn save_availability(
    time_zone: String,
    monday: String,
    tuesday: String,
    wednesday: String,
    thursday: String,
    friday: String,
    saturday: String,
    sunday: String,
    appointment_minutes: String,
    gap_minutes: String,
    notice_hours: String,
    horizon_days: String,
    hold_minutes: String,
) -> Result<(), AppError> {
    use crate::context::request_id;
    use crate::domain::availability::BookingRules;
    use crate::domain::FieldErrors;

    crate::context::for_doctor(async |db, doctor| {
        let mut errors = FieldErrors::default();
        let zone = errors.check("time_zone", ssr::canonical_zone_name(&time_zone));
        let week = availability::parse_week(
            [
                &monday, &tuesday, &wednesday, &thursday, &friday, &saturday, &sunday,
            ],
            &mut errors,
        );
        let rules = BookingRules::parse(
            [
                &appointment_minutes,
                &gap_minutes,
                &notice_hours,
                &horizon_days,
                &hold_minutes,
            ],
            &mut errors,
        );
        let (Some(zone), Some(week), Some(rules)) = (zone, week, rules) else {
            return Err(AppError::Invalid(errors));
        };
        let id = request_id();
        let write = async |tx: &mut _| crate::db::availability::save(tx, &zone, rules, &week).await;
        crate::db::audit::save_settings(db, doctor, "availability.updated", id.as_deref(), write)
            .await?;
        Ok(())
    })
    .await
}

#[server(endpoint = "setup/blocked")]
pub async fn blocked_times() -> Result<Vec<BlockedView>, AppError> {
    crate::context::for_doctor(async |db, doctor| {
        let mut tx = db.tenant(doctor).await?;
        let zone = crate::db::availability::load(&mut tx)
            .await?
            .settings
            .map(|(z, _)| z);
        let blocks =
            crate::db::availability::upcoming_blocks(&mut tx, crate::db::now_millis()).await?;
        tx.commit().await?;
        let zone = zone
            .and_then(|z| ssr::zone(&z).ok())
            .unwrap_or(jiff::tz::TimeZone::UTC);
        Ok(blocks
            .into_iter()
            .map(|b| BlockedView {
                when: ssr::describe(b.starts_at, b.ends_at, b.all_day, &zone),
                id: b.id,
                reason: b.reason.unwrap_or_default(),
            })
            .collect())
    })
    .await
}

#[server(endpoint = "setup/blocked/add")]
pub async fn add_blocked_time(
    date: String,
    whole_day: Option<String>,
    from: String,
    to: String,
    reason: String,
) -> Result<(), AppError> {
    use crate::context::request_id;
    use crate::domain::availability::BlockedInput;
    use crate::domain::FieldErrors;

    crate::context::for_doctor(async |db, doctor| {
        let input = BlockedInput::parse(&date, whole_day.is_some(), &from, &to, &reason)
            .map_err(AppError::Invalid)?;
        let write = async |tx: &mut crate::db::TenantTx| {
            let Some((zone, _)) = crate::db::availability::load(tx).await?.settings else {
                return Err(AppError::Invalid(FieldErrors::single(
                    "date",
                    "Save your time zone and hours first, so we know when this day is.",
                )));
            };
            let zone =
                ssr::zone(&zone).map_err(|e| AppError::internal("stored zone unknown", e))?;
            let (starts_at, ends_at) = ssr::block_span(&input, &zone)?;
            if ends_at <= crate::db::now_millis() {
                return Err(AppError::Invalid(FieldErrors::single(
                    "date",
                    "That time has already passed.",
                )));
            }
            let id = crate::db::availability::insert_block(
                tx,
                starts_at,
                ends_at,
                input.span.is_none(),
                input.reason.as_deref(),
            )
            .await?;
            Ok(vec![format!("blocked:{id}")])
        };
        let id = request_id();
        crate::db::audit::save_settings(db, doctor, "blocked_time.added", id.as_deref(), write)
            .await
    })
    .await
}

#[server(endpoint = "setup/blocked/remove")]
pub async fn remove_blocked_time(id: String) -> Result<(), AppError> {
    use crate::context::request_id;

    crate::context::for_doctor(async |db, doctor| {
        let write = async |tx: &mut crate::db::TenantTx| {
            if !crate::db::availability::delete_block(tx, &id).await? {
                return Err(AppError::NotFound);
            }
            Ok(vec![format!("blocked:{id}")])
        };
        let request = request_id();
        let action = "blocked_time.removed";
        crate::db::audit::save_settings(db, doctor, action, request.as_deref(), write).await
    })
    .await
}

/// The browser's own time zone, to suggest before the doctor has saved one.
fn browser_time_zone() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let options =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
                .resolved_options();
        js_sys::Reflect::get(&options, &"timeZone".into())
            .ok()
            .and_then(|zone| zone.as_string())
    }
    #[cfg(not(feature = "hydrate"))]
    None
}

#[component]
pub fn AvailabilityPane() -> impl IntoView {
    let save = ServerAction::<SaveAvailability>::new();
    let SaveOutcome {
        error,
        saved,
        succeeded,
    } = SaveOutcome::of(save);
    let loaded = Resource::new(move || succeeded.get(), |_| availability());
    super::after_save("availability", saved);
    view! {
        <h1>"Availability"</h1>
        <p class="lead">"When patients can book you, in your time zone."</p>
        <Transition fallback=|| view! { <p>"Loading your hours…"</p> }>
            <ErrorBoundary fallback=load_failed>
            {move || loaded.get().map(|result| result.map(|form| view! { <AvailabilityFields form save error/> }))}
            </ErrorBoundary>
        </Transition>
        <Show when=move || saved.get()>
            <p class="saved" role="status">"Availability saved."</p>
        </Show>
        <BlockedTimes/>
    }
}

#[component]
fn AvailabilityFields(
    form: AvailabilityForm,
    save: ServerAction<SaveAvailability>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let zone = RwSignal::new(form.time_zone.clone());
    Effect::new(move || {
        if zone.get_untracked().is_empty() {
            if let Some(browser) = browser_time_zone() {
                zone.set(browser);
            }
        }
    });
    let days: Vec<RwSignal<String>> = form.days.iter().cloned().map(RwSignal::new).collect();
    let copy_days = days.clone();
    let picture_days = days.clone();
    view! {
        <TracksEdits><ActionForm action=save attr:class="panel form wide">
            <FormAlert error/>
            <FormField label="Time zone" name="time_zone" bind=zone list="zones" error
                hint="Type to search, e.g. Asia/Kolkata."/>
            <datalist id="zones">
                {form.zones.into_iter().map(|z| view! { <option value=z/> }).collect_view()}
            </datalist>
            <fieldset class="week-hours">
                <legend>"Weekly hours"</legend>
                <p class="hint">"For each day, the times you see patients, like 09:00-13:00, 14:00-18:00. Leave a day blank when closed."</p>
                {WEEKDAYS.iter().enumerate().map(|(index, day)| {
                    let source = copy_days[index];
                    let targets = copy_days.clone();
                    view! {
                        <div class="day-row">
                            <FormField label=day name=DAY_FIELDS[index] bind=source error optional=true
                                validate=|v| parse_day(v).map(drop)/>
                            <button type="button"
                                on:click=move |_| {
                                    let hours = source.get_untracked();
                                    for target in &targets {
                                        target.set(hours.clone());
                                    }
                                }>
                                "Copy"<span class="visually-hidden">{format!(" {day}'s hours")}</span>" to every day"
                            </button>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
            <WeekPicture days=picture_days/>
            <fieldset class="rules">
                <legend>"Booking rules"</legend>
                {RULE_FIELDS.iter().zip(RULE_CHECKS).zip(form.rules).map(|((field, check), value)| view! {
                    <FormField label=field.label name=field.name input_type="number" value error
                        validate=check/>
                }).collect_view()}
            </fieldset>
            <SaveButton pending=save.pending() label="Save availability"/>
        </ActionForm></TracksEdits>
    }
}

/// A week at a glance: the open hours as blocks, following the inputs as the doctor types.
#[component]
fn WeekPicture(days: Vec<RwSignal<String>>) -> impl IntoView {
    view! {
        <div class="week-picture" aria-label="Your week at a glance" role="img">
            {days.into_iter().enumerate().map(|(index, day)| view! {
                <div class="week-day">
                    <span class="week-label">{&WEEKDAYS[index][..3]}</span>
                    <div class="week-column">
                        {move || parse_day(&day.get()).unwrap_or_default().into_iter().map(|range| {
                            let top = f32::from(range.start) * 100.0 / f32::from(MINUTES_PER_DAY);
                            let height = f32::from(range.end - range.start) * 100.0 / f32::from(MINUTES_PER_DAY);
                            view! { <div class="open" style=format!("top:{top:.2}%;height:{height:.2}%")></div> }
                        }).collect_view()}
                    </div>
                </div>
            }).collect_view()}
        </div>
    }
}

#[component]
fn BlockedTimes() -> impl IntoView {
    let add = ServerAction::<AddBlockedTime>::new();
    let remove = ServerAction::<RemoveBlockedTime>::new();
    let blocked = Resource::new(
        move || (add.version().get(), remove.version().get()),
        |_| blocked_times(),
    );
    let error = Signal::derive(move || add.value().get().and_then(Result::err));
    let remove_error = Signal::derive(move || remove.value().get().and_then(Result::err));
    let whole_day = RwSignal::new(true);
    view! {
        <h2>"Blocked times"</h2>
        <p class="lead">"Days or hours you are away. Patients cannot book them; the reason stays private."</p>
        <FormAlert error=remove_error/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            <ErrorBoundary fallback=load_failed>
            {move || blocked.get().map(|result| Ok::<_, AppError>(match result {
                Ok(list) if list.is_empty() => view! { <p class="panel">"Nothing blocked."</p> }.into_any(),
                Ok(list) => view! {
                    <ul class="blocked">
                        {list.into_iter().map(|b| {
                            let id = b.id.clone();
                            view! {
                                <li class="panel service">
                                    <span><strong>{b.when.clone()}</strong>
                                        {(!b.reason.is_empty()).then(|| view! { <span class="meta">{b.reason.clone()}</span> })}
                                    </span>
                                    <button type="button" aria-label=format!("Remove {}", b.when)
                                        on:click=move |_| { remove.dispatch(RemoveBlockedTime { id: id.clone() }); }>"Remove"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
                Err(error) => return Err(error),
            }))}
            </ErrorBoundary>
        </Transition>
        <ActionForm action=add attr:class="panel form">
            <FormAlert error/>
            <FormField label="Date" name="date" input_type="date" error validate=|v| availability::parse_date(v).map(drop)/>
            <label class="check">
                <input type="checkbox" name="whole_day" value="on" prop:checked=move || whole_day.get()
                    on:change=move |ev| whole_day.set(event_target_checked(&ev))/>
                "Whole day"
            </label>
            <div class="time-pair" class:hidden=move || whole_day.get()>
                <FormField label="From" name="from" input_type="time" error optional=true/>
                <FormField label="To" name="to" input_type="time" error optional=true/>
            </div>
            <FormField label="Reason (private)" name="reason" error optional=true
                validate=|v| availability::reason(v).map(drop)/>
            <button type="submit" disabled=move || add.pending().get()>"Block this time"</button>
        </ActionForm>
    }
}
