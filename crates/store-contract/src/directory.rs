//! Organizations and users ([`DirectoryStore`]): round trips, uniqueness rules and password
//! hashes.

use crate::fixtures::World;
use domain::ids::UserId;
use domain::organization::{Role, User};
use domain::ports::*;
use domain::validate::Email;
use std::sync::Arc;

/// Organizations round-trip whole; a missing id is `None`; the list holds every one.
pub async fn organizations_round_trip(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let a = w.create_organization("Acme").await;
    w.clock.advance(crate::fixtures::millis(7));
    let mut b = w.organization("Beta");
    b.plan = None;
    w.store.create_organization(&b).await.unwrap();

    assert_eq!(
        w.store.get_organization(a.id).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        w.store.get_organization(b.id).await.unwrap(),
        Some(b.clone())
    );
    let missing = w.organization("never stored");
    assert_eq!(w.store.get_organization(missing.id).await.unwrap(), None);

    let mut listed = w.store.list_organizations().await.unwrap();
    listed.sort_by_key(|o| o.id);
    let mut expected = vec![a, b];
    expected.sort_by_key(|o| o.id);
    assert_eq!(listed, expected);
}

/// Users round-trip every field, are found by id and username, and list oldest first.
pub async fn users_round_trip(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("Acme").await;
    let mut first = w.user(&org, "ada");
    first.role = Role::Owner;
    first.password_hash = Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into());
    w.store.create_user(&first).await.unwrap();
    w.clock.advance(crate::fixtures::millis(1));
    let second = User {
        username: None,
        first_name: None,
        last_name: None,
        timezone: None,
        locale: None,
        avatar_url: None,
        role: Role::Admin,
        ..w.user(&org, "bob")
    };
    w.store.create_user(&second).await.unwrap();
    w.clock.advance(crate::fixtures::millis(1));
    let third = w.create_user(&org, "cy").await;

    assert_eq!(
        w.store.get_user(org.id, first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        w.store.get_user(org.id, second.id).await.unwrap(),
        Some(second.clone())
    );
    assert_eq!(
        w.store.get_user(org.id, UserId(w.id())).await.unwrap(),
        None
    );
    assert_eq!(
        w.store.find_user_by_username(org.id, "ada").await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        w.store
            .find_user_by_username(org.id, "nobody")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        w.store.list_users(org.id).await.unwrap(),
        vec![first, second, third]
    );
}

/// Usernames are unique across the whole deployment, not only inside one organization.
pub async fn usernames_are_unique_across_the_deployment(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let a = w.create_organization("A").await;
    let b = w.create_organization("B").await;
    w.create_user(&a, "ada").await;

    let mut same_org = w.user(&a, "ada");
    same_org.email = Email::parse("other@example.com").unwrap();
    let err = w.store.create_user(&same_org).await.unwrap_err();
    assert!(
        matches!(err, CreateError::Duplicate { field: "username" }),
        "{err:?}"
    );

    let mut other_org = w.user(&b, "ada");
    other_org.email = Email::parse("other@example.com").unwrap();
    let err = w.store.create_user(&other_org).await.unwrap_err();
    assert!(
        matches!(err, CreateError::Duplicate { field: "username" }),
        "{err:?}"
    );

    assert_eq!(w.store.list_users(b.id).await.unwrap(), vec![]);
    assert_eq!(w.store.list_users(a.id).await.unwrap().len(), 1);
}

/// A public username finds its user in whichever organization it belongs to (one query, the
/// booking pages' host lookup); unknown names and near misses find nobody.
pub async fn public_usernames_are_found_across_the_deployment(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let a = w.create_organization("A").await;
    let b = w.create_organization("B").await;
    let ada = w.create_user(&a, "ada").await;
    let bob = w.create_user(&b, "bob").await;
    assert_eq!(w.store.find_public_user("ada").await.unwrap(), Some(ada));
    assert_eq!(w.store.find_public_user("bob").await.unwrap(), Some(bob));
    for nobody in ["ad", "adam", "ADA", "carol", ""] {
        assert_eq!(
            w.store.find_public_user(nobody).await.unwrap(),
            None,
            "{nobody}"
        );
    }
}

/// E-mail addresses are unique per organization, case-insensitively; another organization may
/// reuse one.
pub async fn emails_are_unique_per_organization(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let a = w.create_organization("A").await;
    let b = w.create_organization("B").await;
    w.create_user(&a, "ada").await;

    let mut clash = w.user(&a, "ada2");
    clash.email = Email::parse("ADA@Example.com").unwrap();
    let err = w.store.create_user(&clash).await.unwrap_err();
    assert!(
        matches!(err, CreateError::Duplicate { field: "email" }),
        "{err:?}"
    );

    let mut elsewhere = w.user(&b, "ada3");
    elsewhere.email = Email::parse("ada@example.com").unwrap();
    w.store.create_user(&elsewhere).await.unwrap();
    assert_eq!(w.store.list_users(a.id).await.unwrap().len(), 1);
    assert_eq!(w.store.list_users(b.id).await.unwrap(), vec![elsewhere]);
}

/// `set_password_hash` writes the hash of an existing user and reports a missing one.
pub async fn set_password_hash_writes_and_reports_missing(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("Acme").await;
    let mut ada = w.create_user(&org, "ada").await;
    let other = w.create_user(&org, "bob").await;

    assert!(
        w.store
            .set_password_hash(org.id, ada.id, "$argon2id$one")
            .await
            .unwrap()
    );
    ada.password_hash = Some("$argon2id$one".into());
    assert_eq!(
        w.store.get_user(org.id, ada.id).await.unwrap(),
        Some(ada.clone())
    );

    assert!(
        w.store
            .set_password_hash(org.id, ada.id, "$argon2id$two")
            .await
            .unwrap()
    );
    ada.password_hash = Some("$argon2id$two".into());
    assert_eq!(w.store.get_user(org.id, ada.id).await.unwrap(), Some(ada));
    assert_eq!(
        w.store.get_user(org.id, other.id).await.unwrap(),
        Some(other)
    );

    assert!(
        !w.store
            .set_password_hash(org.id, UserId(w.id()), "$x")
            .await
            .unwrap()
    );
}

/// A role change and a removal touch exactly one user of one organization, are seen by the
/// next read, and report a missing user (or the user of another organization) as false.
pub async fn user_roles_change_and_users_are_removed(store: Arc<dyn Storage>) {
    let w = World::new(store);
    let org = w.create_organization("Acme").await;
    let other_org = w.create_organization("Beta").await;
    let mut ada = w.user(&org, "ada");
    ada.role = Role::Owner;
    w.store.create_user(&ada).await.unwrap();
    let bob = w.create_user(&org, "bob").await;
    let stranger = w.create_user(&other_org, "cy").await;

    assert!(
        w.store
            .set_user_role(org.id, ada.id, Role::Member)
            .await
            .unwrap()
    );
    ada.role = Role::Member;
    assert_eq!(
        w.store.get_user(org.id, ada.id).await.unwrap(),
        Some(ada.clone())
    );
    assert!(
        !w.store
            .set_user_role(org.id, stranger.id, Role::Member)
            .await
            .unwrap(),
        "another organization's user is not found"
    );
    assert!(
        !w.store
            .set_user_role(org.id, UserId(uuid::Uuid::new_v4()), Role::Admin)
            .await
            .unwrap()
    );

    assert!(!w.store.remove_user(org.id, stranger.id).await.unwrap());
    assert!(w.store.remove_user(org.id, ada.id).await.unwrap());
    assert_eq!(w.store.get_user(org.id, ada.id).await.unwrap(), None);
    assert!(!w.store.remove_user(org.id, ada.id).await.unwrap());
    assert_eq!(w.store.list_users(org.id).await.unwrap(), vec![bob.clone()]);
    assert_eq!(
        w.store.get_user(other_org.id, stranger.id).await.unwrap(),
        Some(stranger)
    );
    assert!(
        w.store
            .users_by_email(ada.email.as_str())
            .await
            .unwrap()
            .is_empty(),
        "a removed user cannot sign in"
    );
}
