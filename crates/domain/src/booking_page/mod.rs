//! The public booking pages' use cases: find a host by the username in the page's URL, show an
//! active event type with the days of a month that have free slots, check the chosen slot, and
//! book it from the invitee form.
//!
//! Nothing here decides availability or writes a booking itself: slots come from
//! [`SlotService`] (the one slot engine `/v1/slots` uses) and bookings from
//! [`BookingService::create`] (the one booking path `POST /v1/bookings` uses), so a slot the page
//! shows is a slot the API accepts and a booking made on the page is indistinguishable from one
//! made by a client. What this module adds are the page's own rules: only active event types
//! are public, and the invitee form (name, e-mail, required questions, guests) is checked
//! field by field so the page can show each error next to its field.

use crate::answers::{AnswerProblem, ResponseValue, Responses, check_answer};
pub use crate::answers::{MAX_ANSWER_CHARS, QuestionKind};
use crate::availability::Zone;
use crate::booking::{Attendee, MAX_GUESTS};
use crate::booking_service::{
    AttendeeDraft, BookingDraft, BookingService, CreateBookingError, HostedBooking, Idempotent,
};
use crate::event_type::{EventType, EventTypeRef, Question};
use crate::ids::OrganizationId;
use crate::organization::{Organization, User};
use crate::pagination::{Limit, PageRequest};
use crate::ports::{
    Clock, DirectoryStore, EventTypeQuery, EventTypeSort, EventTypeStore, ScheduleStore,
};
use crate::slot_service::{CheckQuery, SlotError, SlotQuery, SlotService, SlotVerdict};
use crate::slots::Slot;
use crate::validate::{Email, FieldErrors};
use jiff::Timestamp;
use jiff::civil::Date;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A public host: the user a page's username names and their organization.
#[derive(Debug, Clone)]
pub struct PublicHost {
    pub organization: Organization,
    pub user: User,
}

/// `GET /{username}`: the host and their active event types (owned or hosted), by title.
#[derive(Debug, Clone)]
pub struct HostPage {
    pub host: PublicHost,
    /// Each with its owner's username (its page is `/<owner>/<slug>`); event types whose
    /// owner has no username have no page and are left out.
    pub event_types: Vec<(EventType, String)>,
}

/// `GET /{username}/{slug}`: an active event type with everything its page shows.
#[derive(Debug, Clone)]
pub struct EventTypePage {
    pub host: PublicHost,
    pub event_type: EventType,
    /// The users hosting it, in the event type's host order (removed users are skipped).
    pub hosts: Vec<User>,
    /// The event type's zone (its first host's schedule zone, else UTC).
    pub zone: Zone,
}

impl EventTypePage {
    pub fn organization_id(&self) -> OrganizationId {
        self.event_type.organization_id
    }
}

/// The free slots of one month, by local date in the invitee's zone.
#[derive(Debug, Clone)]
pub struct MonthSlots {
    /// First day of the month.
    pub month: Date,
    pub days: BTreeMap<Date, Vec<Slot>>,
}

/// Why a page cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Unknown user, unknown or inactive event type.
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

crate::event_type_service::from_store_error!(PageError);

impl From<SlotError> for PageError {
    fn from(e: SlotError) -> Self {
        match e {
            SlotError::EventTypeNotFound => Self::NotFound,
            SlotError::InvalidParam { param, message } => {
                Self::Unknown(anyhow::anyhow!("slot query {param}: {message}"))
            }
            SlotError::Unknown(e) => Self::Unknown(e),
        }
    }
}

/// One answer of the invitee form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Text(String),
    /// A checkbox question.
    Bool(bool),
}

/// The invitee form as submitted (fields as typed; nothing is trusted).
#[derive(Debug, Clone, Default)]
pub struct InviteeForm {
    pub name: String,
    pub email: String,
    /// One e-mail address per entry (blank entries are ignored).
    pub guests: Vec<String>,
    /// By question key; a question without an entry was left empty.
    pub answers: BTreeMap<String, Answer>,
}

/// The longest name the form accepts, in characters.
pub const MAX_NAME_CHARS: usize = 255;

mod invitee;
pub mod link;
pub use invitee::*;

/// Why a page booking failed.
#[derive(Debug, thiserror::Error)]
pub enum PageBookingError {
    /// Fields of the form, named `name`, `email`, `guests` or `q.<question key>`.
    #[error("the form has errors")]
    Invalid(FieldErrors),
    /// The slot was taken (or left the bookable window) meanwhile.
    #[error("that time is no longer available")]
    SlotTaken,
    #[error("the event type is not available")]
    NotFound,
    /// The slot lock could not be taken in time; retry.
    #[error("busy; retry")]
    Busy,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// The form field name of a question's answer.
pub fn question_field(q: &Question) -> String {
    format!("q.{}", q.key)
}

/// The page use cases.
#[derive(Clone)]
pub struct BookingPageService {
    directory: Arc<dyn DirectoryStore>,
    event_types: Arc<dyn EventTypeStore>,
    schedules: Arc<dyn ScheduleStore>,
    slots: SlotService,
    bookings: BookingService,
    clock: Arc<dyn Clock>,
}

impl BookingPageService {
    pub fn new(
        directory: Arc<dyn DirectoryStore>,
        event_types: Arc<dyn EventTypeStore>,
        schedules: Arc<dyn ScheduleStore>,
        slots: SlotService,
        bookings: BookingService,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            directory,
            event_types,
            schedules,
            slots,
            bookings,
            clock,
        }
    }

    /// The user `username` names across the deployment (usernames are unique there).
    pub async fn find_host(&self, username: &str) -> Result<PublicHost, PageError> {
        if crate::organization::Username::parse(username).is_err() {
            return Err(PageError::NotFound);
        }
        let Some(user) = self.directory.find_public_user(username).await? else {
            return Err(PageError::NotFound);
        };
        match self
            .directory
            .get_organization(user.organization_id)
            .await?
        {
            Some(organization) => Ok(PublicHost { organization, user }),
            None => Err(PageError::NotFound),
        }
    }

    /// The host page: active event types the user owns or hosts, by title.
    pub async fn host_page(&self, username: &str) -> Result<HostPage, PageError> {
        let host = self.find_host(username).await?;
        // One page of the most a page holds (100); a host with more shows the first 100.
        let limit = Limit::new(100).map_err(|m| PageError::Unknown(anyhow::anyhow!(m)))?;
        let event_types = self
            .event_types
            .list_event_types(
                host.organization.id,
                &EventTypeQuery {
                    user_id: Some(host.user.id),
                    slug: None,
                    active: Some(true),
                    sort: EventTypeSort::TitleAsc,
                    page: PageRequest { limit, after: None },
                },
            )
            .await?
            .items;
        let mut listed = Vec::with_capacity(event_types.len());
        for et in event_types {
            let owner = if et.owner_user_id == host.user.id {
                host.user.username.clone()
            } else {
                self.directory
                    .get_user(host.organization.id, et.owner_user_id)
                    .await?
                    .and_then(|u| u.username)
            };
            if let Some(owner) = owner {
                listed.push((et, owner.as_str().to_owned()));
            }
        }
        Ok(HostPage {
            host,
            event_types: listed,
        })
    }

    /// The event type page of `username/slug`; inactive event types are not found.
    pub async fn event_type_page(
        &self,
        username: &str,
        slug: &str,
    ) -> Result<EventTypePage, PageError> {
        let host = self.find_host(username).await?;
        let org = host.organization.id;
        let event_type = self
            .event_types
            .find_event_type(org, username, slug)
            .await?
            .filter(|et| et.active)
            .ok_or(PageError::NotFound)?;
        let mut hosts = Vec::new();
        for h in &event_type.hosts {
            // The page's user is read already (an individual event type's only host).
            if h.user_id == host.user.id {
                hosts.push(host.user.clone());
            } else if let Some(u) = self.directory.get_user(org, h.user_id).await? {
                hosts.push(u);
            }
        }
        let zone = crate::event_type_service::event_type_zone(self.schedules.as_ref(), &event_type)
            .await?;
        Ok(EventTypePage {
            host,
            event_type,
            hosts,
            zone,
        })
    }

    /// The free slots of the month starting `month` (any day of it), grouped by local date in
    /// `zone`: one `/v1/slots` query over the month's local dates.
    pub async fn month(
        &self,
        page: &EventTypePage,
        month: Date,
        zone: &Zone,
    ) -> Result<MonthSlots, PageError> {
        let first = month.first_of_month();
        let next = first
            .checked_add(jiff::Span::new().months(1))
            .map_err(|e| PageError::Unknown(e.into()))?;
        let listing = self
            .slots
            .list_of(
                page.event_type.clone(),
                &SlotQuery {
                    event_type: EventTypeRef::Id(page.event_type.id),
                    start: first.to_string(),
                    end: next.to_string(),
                    timezone: Some(zone.name().to_owned()),
                },
            )
            .await?;
        let mut days: BTreeMap<Date, Vec<Slot>> = BTreeMap::new();
        for slot in listing.slots.slots {
            days.entry(zone.date_of(slot.start)).or_default().push(slot);
        }
        Ok(MonthSlots { month: first, days })
    }

    /// The slot starting at `start`, when it is still bookable (the check `/v1/slots/check` and
    /// the booking transaction make).
    pub async fn slot(
        &self,
        page: &EventTypePage,
        start: Timestamp,
    ) -> Result<Option<Slot>, PageError> {
        let verdict = self
            .slots
            .check(
                page.organization_id(),
                &CheckQuery {
                    event_type: EventTypeRef::Id(page.event_type.id),
                    start: start.to_string(),
                    end: None,
                    timezone: None,
                },
            )
            .await?;
        Ok(match verdict {
            SlotVerdict::Available { slot, .. } => Some(slot),
            SlotVerdict::Unavailable { .. } => None,
        })
    }

    /// Checks the form and books `start` through [`BookingService::create`]. The invitee's zone
    /// becomes the booking's and the attendee's `timezone`; answers become `responses` keyed by
    /// question key.
    pub async fn book(
        &self,
        page: &EventTypePage,
        start: Timestamp,
        zone: &Zone,
        form: InviteeForm,
        idem: Option<Idempotent<'_>>,
    ) -> Result<HostedBooking, PageBookingError> {
        let (attendee, guests, responses) = check_form(&page.event_type, zone, form)?;
        let draft = BookingDraft {
            event_type: Some(EventTypeRef::Id(page.event_type.id)),
            start: Some(start),
            timezone: Some(zone.name().to_owned()),
            attendee: Some(AttendeeDraft {
                email: Some(attendee.email),
                name: Some(attendee.name),
                first_name: attendee.first_name,
                last_name: attendee.last_name,
                phone: attendee.phone,
                timezone: attendee.timezone,
                sms_opt_in: attendee.sms_opt_in,
            }),
            guests,
            responses,
            ..BookingDraft::default()
        };
        self.bookings
            .create(page.organization_id(), draft, idem)
            .await
            .map_err(|e| match e {
                CreateBookingError::Invalid(invalid) => {
                    PageBookingError::Invalid(form_fields(invalid.fields))
                }
                CreateBookingError::EventTypeNotFound | CreateBookingError::EventTypeInactive => {
                    PageBookingError::NotFound
                }
                CreateBookingError::SlotInPast | CreateBookingError::SlotUnavailable { .. } => {
                    PageBookingError::SlotTaken
                }
                CreateBookingError::LockTimeout => PageBookingError::Busy,
                CreateBookingError::Unknown(e) => PageBookingError::Unknown(e),
            })
    }
}

/// The booking's field names as the form's (`attendee.email` → `email`, `guests[1]` →
/// `guests`, `responses.<key>` → `q.<key>`).
fn form_fields(fields: FieldErrors) -> FieldErrors {
    let mut out = FieldErrors::default();
    for e in fields.0 {
        let field = match e.field.as_str() {
            "attendee.email" => "email".to_owned(),
            "attendee.name" => "name".to_owned(),
            f if f.starts_with("guests") => "guests".to_owned(),
            f => f
                .strip_prefix("responses.")
                .map_or_else(|| f.to_owned(), |key| format!("q.{key}")),
        };
        out.push(field, e.message);
    }
    out
}

/// What the form says about an answer the domain's rule ([`check_answer`]) refuses.
fn answer_message(kind: QuestionKind, problem: AnswerProblem) -> String {
    match problem {
        AnswerProblem::Missing if kind == QuestionKind::Checkbox => "Tick this box to continue.",
        AnswerProblem::Missing | AnswerProblem::WrongType(_) => "Answer this question.",
        AnswerProblem::TooLong => return format!("Use at most {MAX_ANSWER_CHARS} characters."),
        AnswerProblem::Malformed(QuestionKind::Email) => {
            "Enter an e-mail address like name@example.com."
        }
        AnswerProblem::Malformed(QuestionKind::Url) => {
            "Enter a web address starting with https://."
        }
        AnswerProblem::Malformed(QuestionKind::Phone) => {
            "Enter the number in international format, e.g. +49 30 1234567."
        }
        AnswerProblem::Malformed(_) => "Enter a number.",
    }
    .to_owned()
}

/// The form's rules, every failing field at once: a name and a deliverable e-mail address,
/// every question answered by the booking's rule ([`check_answer`], which the booking
/// service applies again), answers and guests within their limits.
pub fn check_form(
    event_type: &EventType,
    zone: &Zone,
    form: InviteeForm,
) -> Result<(Attendee, Vec<String>, Option<Responses>), PageBookingError> {
    let mut e = FieldErrors::default();
    let name = form.name.trim().to_owned();
    if name.is_empty() {
        e.push("name", "Enter your name.");
    } else if name.chars().count() > MAX_NAME_CHARS {
        e.push("name", format!("Use at most {MAX_NAME_CHARS} characters."));
    }
    let email = form.email.trim().to_owned();
    if email.is_empty() {
        e.push("email", "Enter your e-mail address.");
    } else if let Err(m) = Email::parse(&email) {
        e.push("email", format!("This e-mail address {m}."));
    }
    let guests: Vec<String> = form
        .guests
        .iter()
        .map(|g| g.trim().to_owned())
        .filter(|g| !g.is_empty())
        .collect();
    if guests.len() > MAX_GUESTS {
        e.push("guests", format!("Invite at most {MAX_GUESTS} guests."));
    }
    for g in &guests {
        if let Err(m) = Email::parse(g) {
            e.push("guests", format!("{g}: this e-mail address {m}."));
        }
    }
    let mut answers = Responses::default();
    for q in &event_type.questions {
        let kind = QuestionKind::of(q);
        let answer = match form.answers.get(&q.key) {
            Some(Answer::Bool(ticked)) => Some(ResponseValue::Bool(*ticked)),
            None if kind == QuestionKind::Checkbox => Some(ResponseValue::Bool(false)),
            Some(Answer::Text(t)) if !t.trim().is_empty() => {
                Some(ResponseValue::Text(t.trim().to_owned()))
            }
            _ => None,
        };
        match check_answer(q, answer.as_ref()) {
            Err(p) => e.push(question_field(q), answer_message(kind, p)),
            Ok(()) => {
                if let Some(a) = answer {
                    answers.0.insert(q.key.clone(), a);
                }
            }
        }
    }
    e.finish(()).map_err(PageBookingError::Invalid)?;
    let responses = (!answers.0.is_empty()).then_some(answers);
    Ok((
        Attendee {
            email,
            name,
            first_name: None,
            last_name: None,
            phone: None,
            timezone: Some(zone.name().to_owned()),
            sms_opt_in: false,
        },
        guests,
        responses,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::EventTypeBuilder;

    use crate::fixtures::question;

    fn form(name: &str, email: &str) -> InviteeForm {
        InviteeForm {
            name: name.into(),
            email: email.into(),
            ..InviteeForm::default()
        }
    }

    fn fields(e: PageBookingError) -> Vec<String> {
        match e {
            PageBookingError::Invalid(f) => f.0.into_iter().map(|e| e.field).collect(),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn every_failing_field_at_once() {
        let mut et = EventTypeBuilder::new(
            crate::ids::EventTypeId(uuid::Uuid::nil()),
            OrganizationId(uuid::Uuid::nil()),
            "x",
        )
        .build();
        et.questions = vec![
            question("company", "text", true),
            question("terms", "checkbox", true),
            question("notes", "textarea", false),
            question("site", "url", false),
        ];
        let zone = Zone::parse("Europe/Berlin").unwrap();
        let mut f = form(" ", "not-an-address");
        f.guests = vec!["ok@example.com".into(), "bad".into(), "  ".into()];
        f.answers
            .insert("site".into(), Answer::Text("ftp://x".into()));
        let got = fields(check_form(&et, &zone, f).unwrap_err());
        assert_eq!(
            got,
            ["name", "email", "guests", "q.company", "q.terms", "q.site"]
        );
    }

    #[test]
    fn answers_become_responses_json() {
        let mut et = EventTypeBuilder::new(
            crate::ids::EventTypeId(uuid::Uuid::nil()),
            OrganizationId(uuid::Uuid::nil()),
            "x",
        )
        .build();
        et.questions = vec![
            question("company", "text", true),
            question("terms", "checkbox", false),
            question("notes", "textarea", false),
        ];
        let zone = Zone::parse("America/New_York").unwrap();
        let mut f = form("Ann \"A\"", "ann@example.com");
        f.answers
            .insert("company".into(), Answer::Text(" Acme\n\"Inc\" ".into()));
        let (attendee, guests, responses) = check_form(&et, &zone, f).unwrap();
        assert_eq!(attendee.name, "Ann \"A\"");
        assert_eq!(attendee.timezone.as_deref(), Some("America/New_York"));
        assert!(guests.is_empty());
        assert_eq!(
            responses.unwrap().to_json().0,
            r#"{"company":"Acme\n\"Inc\"","terms":false}"#
        );
    }

    #[test]
    fn question_kinds() {
        assert_eq!(
            QuestionKind::of(&question("a", "textarea", false)),
            QuestionKind::Textarea
        );
        assert_eq!(
            QuestionKind::of(&question("a", "select", false)),
            QuestionKind::Text
        );
        assert_eq!(
            QuestionKind::of(&question("a", "phone", false)),
            QuestionKind::Phone
        );
    }
}
