"""Independent reader of the e-mails the SMTP sink received: parses each file given on the
command line as MIME (Python's `email` package) and every text/calendar part with the
`icalendar` package (PyPI), and prints one JSON array describing them. Used by
tests/it/notifications, so that neither the MIME layout nor the iCalendar text is judged by the
code that wrote it."""

import email
import json
import sys
from email import policy

import icalendar


def as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def calendar(part):
    cal = icalendar.Calendar.from_ical(part.get_content())
    events = list(cal.walk("VEVENT"))
    ev = events[0]
    return {
        "content_type_method": part.get_param("method"),
        "filename": part.get_filename(),
        "method": str(cal.get("method")),
        "events": len(events),
        "uid": str(ev.get("uid")),
        "sequence": int(ev.get("sequence")),
        "dtstart": ev.decoded("dtstart").isoformat(),
        "dtend": ev.decoded("dtend").isoformat(),
        "dtstamp": ev.decoded("dtstamp").isoformat(),
        "status": str(ev.get("status")),
        "summary": str(ev.get("summary")),
        "location": str(ev.get("location")) if ev.get("location") else None,
        "organizer": str(ev.get("organizer")) if ev.get("organizer") else None,
        "attendees": [str(a) for a in as_list(ev.get("attendee"))],
    }


out = []
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f, policy=policy.default)
    rec = {
        "subject": str(msg["subject"]),
        "from": str(msg["from"]),
        "to": str(msg["to"]),
        "reply_to": str(msg["reply-to"]) if msg["reply-to"] else None,
        "message_id": str(msg["message-id"]),
        "content_type": msg.get_content_type(),
        "parts": [],
        "text": None,
        "html": None,
        "calendars": [],
    }
    for part in msg.walk():
        ct = part.get_content_type()
        rec["parts"].append(ct)
        if part.is_multipart():
            continue
        if ct == "text/plain" and rec["text"] is None:
            rec["text"] = part.get_content()
        elif ct == "text/html" and rec["html"] is None:
            rec["html"] = part.get_content()
        elif ct == "text/calendar":
            rec["calendars"].append(calendar(part))
    out.append(rec)
print(json.dumps(out))
