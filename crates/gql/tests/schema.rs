#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Snapshots of the generated SDL per role.

mod fixture;

use graft_gql::{schema_for_role, sdl_for_role};

#[test]
fn admin_sdl() {
    let model = fixture::model();
    let options = fixture::options(&model);
    schema_for_role(&model, "admin", &options).unwrap();
    insta::assert_snapshot!(sdl_for_role(&model, "admin", &options).unwrap());
}

#[test]
fn user_sdl() {
    let model = fixture::model();
    let options = fixture::options(&model);
    schema_for_role(&model, "user", &options).unwrap();
    insta::assert_snapshot!(sdl_for_role(&model, "user", &options).unwrap());
}

#[test]
fn role_without_permissions_gets_the_placeholder() {
    let model = fixture::model();
    let options = fixture::options(&model);
    let sdl = sdl_for_role(&model, "nobody", &options).unwrap();
    assert!(sdl.contains("no_queries_available: String!"), "{sdl}");
    schema_for_role(&model, "nobody", &options).unwrap();
}
