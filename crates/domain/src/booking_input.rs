//! The inputs of the four booking writes, valid by construction. A caller writes a draft
//! (`BookingDraft`, `PatchDraft`, `RescheduleDraft`, or just a reason); the checked input
//! (`NewBooking`, `BookingPatch`, `Reschedule`, `Cancellation`) is built only by a constructor
//! that checks every field and reports every failure at once ([`InvalidInput`]: one 422 lists
//! every failing field, §6.3). The booking service builds the inputs whose checks need stored
//! state (the event type's questions, the booking's metadata) itself, so there is no check for
//! a caller to forget.

use crate::answers::{Responses, check_responses};
use crate::availability::Zone;
use crate::booking::{
    Attendee, Booking, MAX_ATTENDEE_NAME_CHARS, MAX_GUESTS, MAX_REASON_CHARS, Metadata, Utm,
};
use crate::event_type::{EventType, EventTypeRef, Question};
use crate::validate::{Email, FieldErrors, Phone, max_chars};
use jiff::Timestamp;

/// The contract code a refused input answers with: `validation_error`, or the specific code
/// of the first attendee failure that has one (§2.6). `details.fields` lists every failing
/// field either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputCode {
    Validation,
    AttendeeEmailInvalid,
    AttendeePhoneRequired,
    AttendeePhoneInvalid,
}

impl InputCode {
    /// The field a specific code is about.
    pub fn field(self) -> Option<&'static str> {
        match self {
            Self::Validation => None,
            Self::AttendeeEmailInvalid => Some("attendee.email"),
            Self::AttendeePhoneRequired | Self::AttendeePhoneInvalid => Some("attendee.phone"),
        }
    }
}

/// Every failing field of an input (wire names: `start`, `attendee.email`,
/// `responses.<key>`, …) and the code to answer with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("request failed validation")]
pub struct InvalidInput {
    pub code: InputCode,
    pub fields: FieldErrors,
}

impl InvalidInput {
    /// The message of the field the specific code is about.
    pub fn specific_message(&self) -> Option<(&'static str, &str)> {
        let field = self.code.field()?;
        let e = self.fields.0.iter().find(|e| e.field == field)?;
        Some((field, e.message.as_str()))
    }
}

/// Collects failures; a field is reported once (the first problem found wins), so a field the
/// caller could not parse is not also reported as missing.
struct Checks {
    fields: FieldErrors,
    code: InputCode,
}

impl Checks {
    fn new(rejected: FieldErrors) -> Self {
        Self {
            fields: rejected,
            code: InputCode::Validation,
        }
    }

    fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        let field = field.into();
        if !self.fields.has(&field) {
            self.fields.push(field, message);
        }
    }

    fn specific(&mut self, code: InputCode, message: impl Into<String>) {
        let field = code.field().unwrap_or_default();
        if self.fields.has(field) {
            return;
        }
        if self.code == InputCode::Validation {
            self.code = code;
        }
        self.fields.push(field, message);
    }

    fn extend(&mut self, other: FieldErrors) {
        for e in other.0 {
            self.push(e.field, e.message);
        }
    }

    fn max_chars(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(v) = value {
            let mut e = FieldErrors::default();
            max_chars(&mut e, field, v, max);
            self.extend(e);
        }
    }

    fn zone(&mut self, field: &str, name: Option<&str>) -> Option<Zone> {
        match Zone::parse(name?) {
            Ok(z) => Some(z),
            Err(m) => {
                self.push(field, m);
                None
            }
        }
    }

    fn finish<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, InvalidInput> {
        if self.fields.is_empty()
            && let Some(v) = value()
        {
            return Ok(v);
        }
        Err(InvalidInput {
            code: self.code,
            fields: self.fields,
        })
    }
}

/// The person booking, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttendeeDraft {
    /// Required.
    pub email: Option<String>,
    /// Defaults to `first_name last_name`, else the e-mail's local part.
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub timezone: Option<String>,
    pub sms_opt_in: bool,
}

/// A request to book, as written (`POST /v1/bookings`, the booking page, an embedder).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookingDraft {
    /// Required by [`crate::booking_service::BookingService::create`].
    pub event_type: Option<EventTypeRef>,
    /// Required.
    pub start: Option<Timestamp>,
    /// IANA zone the attendee sees; defaults to the attendee's, then the event type's zone.
    pub timezone: Option<String>,
    /// Required.
    pub attendee: Option<AttendeeDraft>,
    pub guests: Vec<String>,
    pub metadata: Option<Metadata>,
    /// Checked against the event type's questions (when it has any).
    pub responses: Option<Responses>,
    pub utm: Utm,
    /// Fields the caller could not even read (say, a `start` that is no date-time), with
    /// their messages: reported first, and not checked again.
    pub rejected: FieldErrors,
}

/// A checked request to book one event type. Built only by [`NewBooking::new`].
#[derive(Debug, Clone)]
pub struct NewBooking {
    start: Timestamp,
    timezone: Option<Zone>,
    email: Email,
    name: String,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<Phone>,
    attendee_zone: Option<Zone>,
    sms_opt_in: bool,
    guests: Vec<Email>,
    metadata: Option<Metadata>,
    responses: Option<Responses>,
    utm: Utm,
}

/// The default attendee name: `first_name last_name`, else the e-mail's local part.
fn default_name(a: &AttendeeDraft, email: &str) -> String {
    let joined = format!(
        "{} {}",
        a.first_name.as_deref().unwrap_or(""),
        a.last_name.as_deref().unwrap_or("")
    );
    let joined = joined.trim();
    if joined.is_empty() {
        email.split('@').next().unwrap_or("").to_owned()
    } else {
        joined.to_owned()
    }
}

impl NewBooking {
    /// Checks `draft` as a booking of `event_type`, every failing field at once: the attendee
    /// (e-mail, phone, names, zone), the zones, guests, metadata limits, UTM lengths and the
    /// answers to the event type's questions. `draft.event_type` is not read.
    pub fn new(draft: BookingDraft, event_type: &EventType) -> Result<Self, InvalidInput> {
        Self::check(draft, Some(&event_type.questions))
    }

    /// As [`NewBooking::new`]; `questions` is `None` when the event type is not known (then
    /// the answers cannot be checked, and a draft naming no event type fails).
    pub(crate) fn check(
        draft: BookingDraft,
        questions: Option<&[Question]>,
    ) -> Result<Self, InvalidInput> {
        let mut c = Checks::new(draft.rejected);
        if draft.event_type.is_none() && questions.is_none() {
            c.push(
                "event_type_id",
                "give event_type_id, or username and event_slug",
            );
        }
        if draft.start.is_none() {
            c.push("start", "is required");
        }
        let a = draft.attendee.unwrap_or_else(|| {
            c.push("attendee", "is required");
            AttendeeDraft::default()
        });
        let email = match &a.email {
            None => {
                if !c.fields.has("attendee") {
                    c.push("attendee.email", "is required");
                }
                None
            }
            Some(e) => Email::parse(e)
                .map_err(|m| c.specific(InputCode::AttendeeEmailInvalid, m))
                .ok(),
        };
        if a.sms_opt_in && a.phone.is_none() {
            c.specific(
                InputCode::AttendeePhoneRequired,
                "is required when attendee.sms_opt_in is true",
            );
        }
        let phone = a.phone.as_deref().and_then(|p| {
            Phone::parse(p)
                .map_err(|m| c.specific(InputCode::AttendeePhoneInvalid, m))
                .ok()
        });
        c.max_chars("attendee.name", a.name.as_deref(), 255);
        c.max_chars("attendee.first_name", a.first_name.as_deref(), 127);
        c.max_chars("attendee.last_name", a.last_name.as_deref(), 127);
        let timezone = c.zone("timezone", draft.timezone.as_deref());
        let attendee_zone = c.zone("attendee.timezone", a.timezone.as_deref());
        if draft.guests.len() > MAX_GUESTS {
            c.push("guests", format!("at most {MAX_GUESTS} guests"));
        }
        let mut guests = Vec::with_capacity(draft.guests.len());
        for (i, g) in draft.guests.iter().enumerate() {
            match Email::parse(g) {
                Ok(e) => guests.push(e),
                Err(m) => c.push(format!("guests[{i}]"), m),
            }
        }
        if let Some(m) = &draft.metadata {
            let mut e = FieldErrors::default();
            m.check_limits(&mut e);
            c.extend(e);
        }
        c.max_chars("utm_source", draft.utm.source.as_deref(), 255);
        c.max_chars("utm_medium", draft.utm.medium.as_deref(), 255);
        c.max_chars("utm_campaign", draft.utm.campaign.as_deref(), 255);
        if let Some(questions) = questions {
            let mut e = FieldErrors::default();
            check_responses(&mut e, questions, draft.responses.as_ref());
            c.extend(e);
        }
        c.finish(|| {
            let email = email?;
            Some(Self {
                start: draft.start?,
                timezone,
                name: a
                    .name
                    .clone()
                    .unwrap_or_else(|| default_name(&a, email.as_str())),
                email,
                first_name: a.first_name,
                last_name: a.last_name,
                phone,
                attendee_zone,
                sms_opt_in: a.sms_opt_in,
                guests,
                metadata: draft.metadata,
                responses: draft.responses,
                utm: draft.utm,
            })
        })
    }

    pub fn start(&self) -> Timestamp {
        self.start
    }

    /// The zone the booking is shown in, when the request names one: its `timezone`, else the
    /// attendee's.
    pub fn zone(&self) -> Option<&Zone> {
        self.timezone.as_ref().or(self.attendee_zone.as_ref())
    }

    /// The booking's parts that come from the request: attendee, guests, metadata, responses
    /// and tracking parameters.
    pub(crate) fn into_parts(self) -> BookingParts {
        BookingParts {
            attendee: Attendee {
                email: self.email.as_str().to_owned(),
                name: self.name,
                first_name: self.first_name,
                last_name: self.last_name,
                phone: self.phone.map(|p| p.as_str().to_owned()),
                timezone: self.attendee_zone.map(|z| z.name().to_owned()),
                sms_opt_in: self.sms_opt_in,
            },
            guests: self.guests.iter().map(|g| g.as_str().to_owned()).collect(),
            metadata: self.metadata,
            responses: self.responses.map(|r| r.to_json()),
            utm: self.utm,
        }
    }
}

/// What a new booking takes over from its request.
pub(crate) struct BookingParts {
    pub attendee: Attendee,
    pub guests: Vec<String>,
    pub metadata: Option<Metadata>,
    pub responses: Option<crate::booking::RawJson>,
    pub utm: Utm,
}

/// Why a booking is canceled, checked: at most [`MAX_REASON_CHARS`] characters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cancellation {
    reason: Option<String>,
}

impl Cancellation {
    /// A cancellation with `reason` (shown to the attendee).
    pub fn new(reason: Option<String>) -> Result<Self, InvalidInput> {
        let mut c = Checks::new(FieldErrors::default());
        c.max_chars("reason", reason.as_deref(), MAX_REASON_CHARS);
        c.finish(|| Some(Self { reason }))
    }

    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    pub(crate) fn into_reason(self) -> Option<String> {
        self.reason
    }
}

/// A move, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RescheduleDraft {
    /// Required: the new start.
    pub start: Option<Timestamp>,
    /// The zone the moved booking is shown in; defaults to the old booking's.
    pub timezone: Option<String>,
    /// At most [`MAX_REASON_CHARS`] characters; shown to the attendee.
    pub reason: Option<String>,
    /// Fields the caller could not read, as in [`BookingDraft::rejected`].
    pub rejected: FieldErrors,
}

/// A checked move. Built by [`Reschedule::new`] (or [`Reschedule::to`], which has nothing to
/// check).
#[derive(Debug, Clone)]
pub struct Reschedule {
    start: Timestamp,
    timezone: Option<Zone>,
    reason: Option<String>,
}

impl Reschedule {
    /// Checks `draft`, every failing field at once.
    pub fn new(draft: RescheduleDraft) -> Result<Self, InvalidInput> {
        let mut c = Checks::new(draft.rejected);
        if draft.start.is_none() {
            c.push("start", "is required");
        }
        c.max_chars("reason", draft.reason.as_deref(), MAX_REASON_CHARS);
        let timezone = c.zone("timezone", draft.timezone.as_deref());
        c.finish(|| {
            Some(Self {
                start: draft.start?,
                timezone,
                reason: draft.reason,
            })
        })
    }

    /// A move to `start`, keeping the zone, without a reason.
    pub fn to(start: Timestamp) -> Self {
        Self {
            start,
            timezone: None,
            reason: None,
        }
    }

    /// The same move shown in `zone`.
    pub fn in_zone(mut self, zone: Zone) -> Self {
        self.timezone = Some(zone);
        self
    }

    pub fn start(&self) -> Timestamp {
        self.start
    }

    pub fn zone(&self) -> Option<&Zone> {
        self.timezone.as_ref()
    }

    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }
}

/// `PATCH /v1/bookings/{uid}` as written: only these three fields are writable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchDraft {
    /// Shallow-merged into the stored metadata.
    pub metadata: Option<Metadata>,
    /// Replaces the stored answers; checked against the event type's questions.
    pub responses: Option<Responses>,
    /// Truncated to [`MAX_ATTENDEE_NAME_CHARS`] characters.
    pub attendee_name: Option<String>,
}

/// A checked PATCH of one booking. Built only by [`BookingPatch::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingPatch {
    metadata: Option<Metadata>,
    responses: Option<Responses>,
    attendee_name: Option<String>,
}

impl BookingPatch {
    /// Checks `draft` as a change of `current`, every failing field at once: the metadata
    /// limits on the merged result, and the new answers against the questions of the
    /// booking's event type (`None` when it was deleted: then nothing is asked).
    pub fn new(
        draft: PatchDraft,
        current: &Booking,
        event_type: Option<&EventType>,
    ) -> Result<Self, InvalidInput> {
        let mut c = Checks::new(FieldErrors::default());
        if let Some(m) = &draft.metadata {
            let merged = current.metadata.clone().unwrap_or_default().merged(m);
            let mut e = FieldErrors::default();
            merged.check_limits(&mut e);
            c.extend(e);
        }
        if let (Some(r), Some(et)) = (&draft.responses, event_type) {
            let mut e = FieldErrors::default();
            check_responses(&mut e, &et.questions, Some(r));
            c.extend(e);
        }
        c.finish(|| {
            Some(Self {
                metadata: draft.metadata,
                responses: draft.responses,
                attendee_name: draft
                    .attendee_name
                    .map(|n| n.chars().take(MAX_ATTENDEE_NAME_CHARS).collect()),
            })
        })
    }

    pub fn metadata(&self) -> Option<&Metadata> {
        self.metadata.as_ref()
    }

    pub fn responses(&self) -> Option<&Responses> {
        self.responses.as_ref()
    }

    /// The new attendee name, already truncated.
    pub fn attendee_name(&self) -> Option<&str> {
        self.attendee_name.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::ResponseValue;
    use crate::booking::MetadataValue;
    use crate::fixtures::EventTypeBuilder;
    use crate::ids::{EventTypeId, OrganizationId};
    use uuid::Uuid;

    fn event_type(questions: Vec<Question>) -> EventType {
        let mut et =
            EventTypeBuilder::new(EventTypeId(Uuid::nil()), OrganizationId(Uuid::nil()), "x")
                .build();
        et.questions = questions;
        et
    }

    fn fields(e: &InvalidInput) -> Vec<&str> {
        e.fields.0.iter().map(|f| f.field.as_str()).collect()
    }

    fn draft(email: &str) -> BookingDraft {
        BookingDraft {
            start: Some("2026-06-01T10:00:00Z".parse().unwrap()),
            attendee: Some(AttendeeDraft {
                email: Some(email.into()),
                ..AttendeeDraft::default()
            }),
            ..BookingDraft::default()
        }
    }

    #[test]
    fn every_failing_field_at_once() {
        let et = event_type(vec![crate::fixtures::question("company", "text", true)]);
        let mut d = draft("not-an-address");
        d.start = None;
        d.rejected.push("start", "must be an RFC 3339 date-time");
        d.timezone = Some("Mars/Olympus".into());
        d.guests = vec!["ok@example.com".into(), "bad".into()];
        let a = d.attendee.as_mut().unwrap();
        a.sms_opt_in = true;
        a.name = Some("n".repeat(256));
        let e = NewBooking::new(d, &et).unwrap_err();
        assert_eq!(e.code, InputCode::AttendeeEmailInvalid);
        assert_eq!(
            fields(&e),
            [
                "start",
                "attendee.email",
                "attendee.phone",
                "attendee.name",
                "timezone",
                "guests[1]",
                "responses.company"
            ]
        );
        assert_eq!(e.fields.0[0].message, "must be an RFC 3339 date-time");
        assert_eq!(e.specific_message().unwrap().0, "attendee.email");
    }

    #[test]
    fn missing_parts_are_named_once() {
        let e = NewBooking::check(BookingDraft::default(), None).unwrap_err();
        assert_eq!(e.code, InputCode::Validation);
        assert_eq!(fields(&e), ["event_type_id", "start", "attendee"]);
        let mut d = draft("a@b.co");
        d.attendee = Some(AttendeeDraft::default());
        let e = NewBooking::new(d, &event_type(vec![])).unwrap_err();
        assert_eq!(fields(&e), ["attendee.email"]);
    }

    #[test]
    fn the_default_attendee_name() {
        let et = event_type(vec![]);
        let nb = NewBooking::new(draft("bob@example.com"), &et).unwrap();
        assert_eq!(nb.into_parts().attendee.name, "bob");
        let mut d = draft("bob@example.com");
        let a = d.attendee.as_mut().unwrap();
        a.first_name = Some("Bob".into());
        a.last_name = Some("Stone".into());
        assert_eq!(
            NewBooking::new(d, &et).unwrap().into_parts().attendee.name,
            "Bob Stone"
        );
    }

    #[test]
    fn answers_are_free_form_without_questions() {
        let mut d = draft("a@b.co");
        d.responses = Some(Responses(
            [("anything".to_string(), ResponseValue::Number("1".into()))].into(),
        ));
        let nb = NewBooking::new(d, &event_type(vec![])).unwrap();
        assert_eq!(nb.into_parts().responses.unwrap().0, r#"{"anything":1}"#);
    }

    #[test]
    fn reschedule_and_cancel_inputs() {
        let e = Reschedule::new(RescheduleDraft {
            timezone: Some("Nowhere/Land".into()),
            reason: Some("r".repeat(MAX_REASON_CHARS + 1)),
            ..RescheduleDraft::default()
        })
        .unwrap_err();
        assert_eq!(fields(&e), ["start", "reason", "timezone"]);
        assert!(Cancellation::new(Some("r".repeat(MAX_REASON_CHARS + 1))).is_err());
        assert_eq!(
            Cancellation::new(Some("sick".into())).unwrap().reason(),
            Some("sick")
        );
    }

    #[test]
    fn patch_limits_apply_to_the_merged_metadata() {
        let now: Timestamp = "2026-05-01T00:00:00Z".parse().unwrap();
        let mut current = crate::fixtures::BookingBuilder::of(
            crate::ids::BookingUid(Uuid::nil()),
            &event_type(vec![]),
            crate::ids::UserId(Uuid::nil()),
            now,
        )
        .build();
        current.metadata = Some(Metadata(
            (0..50)
                .map(|i| (format!("k{i}"), MetadataValue::Text("v".into())))
                .collect(),
        ));
        let draft = PatchDraft {
            metadata: Some(Metadata(
                [("new".to_string(), MetadataValue::Text("v".into()))].into(),
            )),
            attendee_name: Some("x".repeat(300)),
            ..PatchDraft::default()
        };
        let e = BookingPatch::new(draft.clone(), &current, None).unwrap_err();
        assert_eq!(fields(&e), ["metadata"]);
        current.metadata = None;
        let p = BookingPatch::new(draft, &current, None).unwrap();
        assert_eq!(p.attendee_name().map(|n| n.chars().count()), Some(200));
    }
}
