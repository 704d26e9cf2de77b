//! The real `slotbook` binary: `demo` with zero configuration, and `admin …` commands.

use crate::support::{TempDir, find_pat, is_pat, paren_uuid, run, slotbook};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn demo_with_zero_configuration_prints_a_token_once_per_run() {
    let dir = TempDir::new();
    let mut cmd = slotbook(&dir);
    cmd.arg("demo");
    let out = run(cmd, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let token = find_pat(&text).unwrap();
    assert!(is_pat(&token), "{token}");
    assert_eq!(text.matches(&token).count(), 1, "the token is printed once");
    assert!(
        text.contains("curl -H \"Authorization: Bearer $TOKEN\" http://127.0.0.1:8080/v1/_ping")
    );
    assert!(!stderr(&out).contains(&token), "logs never carry the token");

    // The default database and a private pepper file live in the working directory.
    assert!(dir.path().join("slotbook.db").is_file());
    let pepper = dir.path().join("slotbook.pepper");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&pepper).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let pepper_text = std::fs::read_to_string(&pepper).unwrap();
    assert!(!stderr(&out).contains(pepper_text.trim()));

    // A second run mints a new token for the same demo user.
    let mut cmd = slotbook(&dir);
    cmd.arg("demo");
    let again = run(cmd, None);
    assert!(again.status.success(), "{}", stderr(&again));
    let second = find_pat(&stdout(&again)).unwrap();
    assert!(is_pat(&second));
    assert_ne!(second, token);
    assert_eq!(
        std::fs::read_to_string(&pepper).unwrap(),
        pepper_text,
        "pepper kept"
    );

    // `admin token list` shows only the last four characters.
    let org = paren_uuid(
        text.lines()
            .find(|l| l.starts_with("Demo organization"))
            .unwrap(),
    );
    let mut cmd = slotbook(&dir);
    cmd.args(["admin", "token", "list", "--org", &org.to_string()]);
    let list = run(cmd, None);
    assert!(list.status.success(), "{}", stderr(&list));
    let listed = stdout(&list);
    assert!(!listed.contains(&token) && !listed.contains(&second));
    assert!(
        listed.contains(&format!("…{}", &token[token.len() - 4..])),
        "{listed}"
    );
    assert!(
        listed.contains(&format!("…{}", &second[second.len() - 4..])),
        "{listed}"
    );
    assert_eq!(listed.matches("\tactive\t").count(), 2, "{listed}");
}

#[test]
fn a_lost_pepper_is_never_replaced_beside_a_database_with_tokens() {
    let dir = TempDir::new();
    let mut cmd = slotbook(&dir);
    cmd.arg("demo");
    let out = run(cmd, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let pepper = dir.path().join("slotbook.pepper");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for name in ["slotbook.db", "slotbook.pepper"] {
            let mode = std::fs::metadata(dir.path().join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
    }
    std::fs::remove_file(&pepper).unwrap();
    for args in [&["demo"][..], &["serve"][..]] {
        let mut cmd = slotbook(&dir);
        cmd.env("SLOTBOOK__HTTP__LISTEN", "127.0.0.1:0").args(args);
        let out = run(cmd, None);
        assert!(!out.status.success(), "{args:?} started without its pepper");
        let err = stderr(&out);
        assert!(
            err.contains("pepper file") && err.contains("Restore slotbook.pepper from your backup"),
            "{err}"
        );
        assert!(!pepper.exists(), "{args:?} generated a new pepper");
    }
    // A wider pepper file is used but reported.
    let mut cmd = slotbook(&dir);
    cmd.arg("demo");
    std::fs::write(&pepper, "x".repeat(64)).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&pepper, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = run(cmd, None);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("the pepper file is readable by other users"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn admin_commands_end_to_end() {
    let dir = TempDir::new();
    let db = dir.sqlite_url();
    let admin = |args: &[&str], stdin: Option<&str>| {
        let mut cmd = slotbook(&dir);
        cmd.arg("--database-url").arg(&db).arg("admin").args(args);
        run(cmd, stdin)
    };

    let out = admin(&["org", "create", "--name", "Acme"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let org = paren_uuid(&stdout(&out)).to_string();

    let out = admin(
        &[
            "user",
            "create",
            "--org",
            &org,
            "--email",
            "bob@example.com",
            "--username",
            "bob",
            "--role",
            "member",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let member = paren_uuid(&stdout(&out)).to_string();

    let out = admin(
        &[
            "token",
            "create",
            "--org",
            &org,
            "--user",
            &member,
            "--name",
            "x",
            "--scopes",
            "slots:read",
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("only owners and admins"),
        "{}",
        stderr(&out)
    );
    assert!(find_pat(&stdout(&out)).is_none());

    let out = admin(
        &[
            "user",
            "create",
            "--org",
            &org,
            "--email",
            "ada@example.com",
            "--username",
            "ada",
            "--role",
            "owner",
            "--timezone",
            "Europe/Berlin",
            "--password-stdin",
        ],
        Some("correct horse battery\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let owner = paren_uuid(&stdout(&out)).to_string();

    let out = admin(&["user", "list", "--org", &org], None);
    let users = stdout(&out);
    assert!(users.contains("ada@example.com") && users.contains("bob@example.com"));
    assert!(
        users
            .lines()
            .any(|l| l.contains("\tada\t") && l.ends_with("\tset")),
        "{users}"
    );

    let out = admin(
        &[
            "schedule",
            "create",
            "--org",
            &org,
            "--user",
            &owner,
            "--name",
            "Work",
            "--timezone",
            "Europe/Berlin",
            "--rule",
            "mon-fri 09:00-17:00",
            "--rule",
            "sat 10:00-12:00",
            "--override",
            "2026-12-24 off",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = admin(&["schedule", "list", "--org", &org], None);
    assert!(
        stdout(&out).contains("mon,tue,wed,thu,fri 09:00-17:00; sat 10:00-12:00"),
        "{}",
        stdout(&out)
    );

    let out = admin(
        &[
            "event-type",
            "create",
            "--org",
            &org,
            "--owner",
            &owner,
            "--slug",
            "intro",
            "--title",
            "Intro",
            "--duration",
            "30",
            "--buffer-after",
            "10",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = admin(&["event-type", "list", "--org", &org], None);
    assert!(
        stdout(&out).contains("\tintro\tIntro\t30\tindividual\ttrue\t"),
        "{}",
        stdout(&out)
    );

    let out = admin(
        &[
            "token",
            "create",
            "--org",
            &org,
            "--user",
            &owner,
            "--name",
            "ci",
            "--scopes",
            "bookings:write slots:read",
            "--expires",
            "never",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    assert!(
        is_pat(printed.trim()),
        "stdout is exactly the token: {printed:?}"
    );
    assert!(
        stderr(&out).contains("bookings:create"),
        "aliases expanded: {}",
        stderr(&out)
    );

    let out = admin(&["token", "list", "--org", &org], None);
    let line = stdout(&out)
        .lines()
        .find(|l| l.contains("\tci\t"))
        .unwrap()
        .to_owned();
    assert!(line.contains("\tnever\t"), "{line}");
    let id = line.split('\t').next().unwrap().to_owned();
    let out = admin(&["token", "revoke", "--org", &org, "--id", &id], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = admin(&["token", "list", "--org", &org], None);
    assert!(stdout(&out).contains("\trevoked\t"));

    let out = admin(
        &[
            "token",
            "create",
            "--org",
            &org,
            "--user",
            &owner,
            "--name",
            "y",
            "--scopes",
            "slots:read",
            "--expires",
            "30",
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("42, 90, 180, 365 or never"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn postgres_without_pepper_fails_naming_the_variable() {
    let dir = TempDir::new();
    let mut cmd = slotbook(&dir);
    cmd.env(
        "SLOTBOOK__DATABASE__URL",
        "postgres://app:pw@127.0.0.1:1/slotbook",
    )
    .arg("migrate");
    let out = run(cmd, None);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("SLOTBOOK__SECURITY__PEPPER"), "{err}");
    assert!(!err.contains(":pw@"), "{err}");
}

/// Runs `slotbook admin --json …` and parses standard output as exactly one JSON value.
fn admin_json(dir: &TempDir, args: &[&str], stdin: Option<&str>) -> serde_json::Value {
    let mut cmd = slotbook(dir);
    cmd.arg("admin").args(args).arg("--json");
    let out = run(cmd, stdin);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    let text = stdout(&out);
    let mut values = serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>();
    let first = values
        .next()
        .unwrap_or_else(|| panic!("{args:?}: no JSON on stdout"))
        .unwrap_or_else(|e| panic!("{args:?}: stdout is not JSON ({e}): {text}"));
    assert!(values.next().is_none(), "{args:?}: one value only: {text}");
    assert!(first.is_object() || first.is_array(), "{args:?}: {first}");
    first
}

fn str_of<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is a string: {v}"))
}

#[test]
fn every_admin_command_prints_json_for_scripts() {
    let dir = TempDir::new();
    let org = admin_json(&dir, &["org", "create", "--name", "Acme"], None);
    assert_eq!(org["name"], "Acme");
    let org_id = str_of(&org, "id").to_owned();
    let orgs = admin_json(&dir, &["org", "list"], None);
    assert!(
        orgs.as_array()
            .unwrap()
            .iter()
            .any(|o| o["id"] == org["id"]),
        "{orgs}"
    );

    let user = admin_json(
        &dir,
        &[
            "user",
            "create",
            "--org",
            &org_id,
            "--email",
            "ada@example.com",
            "--username",
            "ada",
            "--role",
            "owner",
            "--timezone",
            "Europe/Berlin",
        ],
        None,
    );
    assert_eq!(
        (&user["username"], &user["role"], &user["password_set"]),
        (&"ada".into(), &"owner".into(), &false.into())
    );
    let user_id = str_of(&user, "id").to_owned();
    let set = admin_json(
        &dir,
        &["user", "set-password", "--org", &org_id, "--user", &user_id],
        Some("correct horse battery\n"),
    );
    assert_eq!(set["password_set"], true);
    let users = admin_json(&dir, &["user", "list", "--org", &org_id], None);
    assert_eq!(users[0]["id"], user["id"]);
    assert_eq!(users[0]["password_set"], true, "{users}");
    assert!(!users.to_string().contains("argon2"), "no hashes: {users}");

    // A second user: promoted, then removed.
    let bob = admin_json(
        &dir,
        &[
            "user",
            "create",
            "--org",
            &org_id,
            "--email",
            "bob@example.com",
            "--username",
            "bob",
            "--role",
            "member",
        ],
        None,
    );
    let bob_id = str_of(&bob, "id").to_owned();
    let set = admin_json(
        &dir,
        &[
            "user", "set-role", "--org", &org_id, "--user", &bob_id, "--role", "admin",
        ],
        None,
    );
    assert_eq!(
        (&set["user_id"], &set["role"]),
        (&bob["id"], &"admin".into())
    );
    let users = admin_json(&dir, &["user", "list", "--org", &org_id], None);
    assert_eq!(users[1]["role"], "admin", "{users}");
    let removed = admin_json(
        &dir,
        &["user", "remove", "--org", &org_id, "--user", &bob_id],
        None,
    );
    assert_eq!(
        (&removed["user_id"], &removed["removed"]),
        (&bob["id"], &true.into())
    );
    let users = admin_json(&dir, &["user", "list", "--org", &org_id], None);
    assert_eq!(users.as_array().map(Vec::len), Some(1), "{users}");

    let schedule = admin_json(
        &dir,
        &[
            "schedule",
            "create",
            "--org",
            &org_id,
            "--user",
            &user_id,
            "--name",
            "Work",
            "--timezone",
            "Europe/Berlin",
            "--rule",
            "mon-fri 09:00-17:00",
        ],
        None,
    );
    assert_eq!(schedule["timezone"], "Europe/Berlin");
    assert_eq!(schedule["rules"][0]["start"], "09:00");
    let schedules = admin_json(&dir, &["schedule", "list", "--org", &org_id], None);
    assert_eq!(schedules[0]["id"], schedule["id"]);

    let et = admin_json(
        &dir,
        &[
            "event-type",
            "create",
            "--org",
            &org_id,
            "--owner",
            &user_id,
            "--slug",
            "intro",
            "--title",
            "Intro",
            "--duration",
            "30",
        ],
        None,
    );
    assert_eq!(
        (&et["slug"], &et["duration_minutes"]),
        (&"intro".into(), &30.into())
    );
    assert_eq!(et["hosts"][0]["schedule_id"], schedule["id"]);
    let ets = admin_json(&dir, &["event-type", "list", "--org", &org_id], None);
    assert_eq!(ets[0]["id"], et["id"]);

    let token = admin_json(
        &dir,
        &[
            "token",
            "create",
            "--org",
            &org_id,
            "--user",
            &user_id,
            "--name",
            "ci",
            "--scopes",
            "slots:read",
            "--expires",
            "never",
        ],
        None,
    );
    let secret = str_of(&token, "token").to_owned();
    assert!(is_pat(&secret), "{secret}");
    assert_eq!(token["status"], "active");
    assert_eq!(token["expires_at"], serde_json::Value::Null);
    let token_id = str_of(&token, "id").to_owned();
    let tokens = admin_json(&dir, &["token", "list", "--org", &org_id], None);
    assert_eq!(tokens[0]["last_four"], &secret[secret.len() - 4..]);
    assert!(!tokens.to_string().contains(&secret), "never the secret");
    let revoked = admin_json(
        &dir,
        &["token", "revoke", "--org", &org_id, "--id", &token_id],
        None,
    );
    assert_eq!(revoked["revoked"], true);
    let tokens = admin_json(&dir, &["token", "list", "--org", &org_id], None);
    assert_eq!(tokens[0]["status"], "revoked");

    // Without --json the human text stays the default.
    let mut cmd = slotbook(&dir);
    cmd.args(["admin", "org", "list"]);
    let out = run(cmd, None);
    assert!(
        stdout(&out).starts_with("ID\tNAME\tCREATED"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn oauth_clients_are_managed_from_the_cli() {
    let dir = TempDir::new();
    let created = admin_json(
        &dir,
        &[
            "oauth-client",
            "create",
            "--name",
            "Zapier-like",
            "--redirect-uri",
            "https://app.example.com/callback",
            "--scopes",
            "bookings:read slots:read offline_access",
        ],
        None,
    );
    let client_id = str_of(&created, "client_id").to_owned();
    let secret = str_of(&created, "client_secret").to_owned();
    assert!(secret.starts_with("42min_cs_"), "{secret}");
    assert_eq!(created["kind"], "confidential");
    assert_eq!(
        created["redirect_uris"][0],
        "https://app.example.com/callback"
    );

    let public = admin_json(
        &dir,
        &[
            "oauth-client",
            "create",
            "--name",
            "CLI app",
            "--kind",
            "public",
            "--redirect-uri",
            "http://127.0.0.1/callback",
            "--scopes",
            "bookings:read",
        ],
        None,
    );
    assert_eq!(public["client_secret"], serde_json::Value::Null);

    let list = admin_json(&dir, &["oauth-client", "list"], None);
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
    assert!(
        !list.to_string().contains(&secret),
        "never the secret: {list}"
    );

    let rotated = admin_json(
        &dir,
        &["oauth-client", "rotate-secret", "--client-id", &client_id],
        None,
    );
    let new_secret = str_of(&rotated, "client_secret");
    assert!(new_secret.starts_with("42min_cs_") && new_secret != secret);

    let revoked = admin_json(
        &dir,
        &["oauth-client", "revoke", "--client-id", &client_id],
        None,
    );
    assert_eq!(revoked["revoked"], true);
    let list = admin_json(&dir, &["oauth-client", "list"], None);
    let row = list
        .as_array()
        .and_then(|l| l.iter().find(|c| c["client_id"] == client_id.as_str()))
        .cloned()
        .unwrap_or_default();
    assert!(row["revoked_at"].is_string(), "{list}");

    // A public client has no secret to rotate; a bad scope is refused with its field named.
    let mut cmd = slotbook(&dir);
    cmd.args([
        "admin",
        "oauth-client",
        "rotate-secret",
        "--client-id",
        str_of(&public, "client_id"),
    ]);
    let out = run(cmd, None);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no active confidential client"),
        "{}",
        stderr(&out)
    );
    let mut cmd = slotbook(&dir);
    cmd.args([
        "admin",
        "oauth-client",
        "create",
        "--name",
        "x",
        "--redirect-uri",
        "https://a.example/cb",
        "--scopes",
        "nope:read",
    ]);
    let out = run(cmd, None);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("unknown scope 'nope:read'"),
        "{}",
        stderr(&out)
    );
}
