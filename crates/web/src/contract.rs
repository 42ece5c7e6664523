//! The API contract: what every operation may answer besides its success, written into the
//! OpenAPI document in one place so that no operation forgets one. Errors are RFC 9457
//! `application/problem+json` with a `type` from [`PROBLEM_TYPES`].

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, ResponseBuilder};

/// Every problem `type` the API returns: stable URIs, relative to the server.
pub const PROBLEM_TYPES: &[(&str, &str)] = &[
    (
        "/problems/bad-request",
        "the request is malformed (JSON syntax, query or path parameters, headers)",
    ),
    (
        "/problems/unauthorized",
        "authentication required: missing, invalid or expired bearer token",
    ),
    (
        "/problems/invalid-credentials",
        "wrong username or password, or a locked account",
    ),
    (
        "/problems/too-many-attempts",
        "too many wrong passwords for the account or from the address: wait (Retry-After)",
    ),
    (
        "/problems/rate-limited",
        "too many requests from this address without signing in: wait (Retry-After)",
    ),
    (
        "/problems/csrf",
        "a page form without its anti-forgery token (pages only)",
    ),
    (
        "/problems/forbidden",
        "the authorisation policy refuses this actor this action",
    ),
    (
        "/problems/password-change-required",
        "an administrator reset this account's password: change it at /doi-mat-khau first",
    ),
    (
        "/problems/not-found",
        "no such resource, or not one the caller may see",
    ),
    (
        "/problems/conflict",
        "a record with this key exists, or the idempotency key was used for another request",
    ),
    (
        "/problems/invalid-transition",
        "the dossier's state does not allow this action",
    ),
    (
        "/problems/stale",
        "the dossier changed since the version in If-Match",
    ),
    (
        "/problems/validation",
        "the content is well-formed but invalid; `errors` names every field",
    ),
    (
        "/problems/import-rejected",
        "a file to import has bad rows (listed in `rows`); nothing was imported",
    ),
    (
        "/problems/unsupported-media-type",
        "the body's Content-Type is not one the operation accepts, or a file's content is not PDF, JPEG, PNG or TIFF",
    ),
    (
        "/problems/file-too-large",
        "a file larger than the configured limit",
    ),
    (
        "/problems/unusable-file",
        "a file that is empty, damaged or cut off, or over the page or pixel limits (checked before decoding)",
    ),
    (
        "/problems/internal",
        "an internal error (logged); retry later",
    ),
    ("/problems/unavailable", "the database is not reachable"),
];

fn problem(description: &str) -> RefOr<utoipa::openapi::Response> {
    let content = Content::new(Some(Ref::from_schema_name("Problem")));
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content("application/problem+json", content)
            .build(),
    )
}

/// Adds the error answers an operation can give, and gives every error answer the
/// problem+json content type.
fn complete(op: &mut Operation, path: &str) {
    let responses = &mut op.responses.responses;
    // Answers declared with the Problem body are problem+json, not application/json.
    for r in responses.values_mut() {
        if let RefOr::T(r) = r
            && let Some(c) = r.content.shift_remove("application/json")
        {
            let is_problem =
                matches!(&c.schema, Some(RefOr::Ref(x)) if x.ref_location.ends_with("/Problem"));
            let key = if is_problem {
                "application/problem+json"
            } else {
                "application/json"
            };
            r.content.insert(key.to_owned(), c);
        }
    }
    let mut add = |code: &str, why: &str| {
        responses
            .entry(code.to_owned())
            .or_insert_with(|| problem(why));
    };
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
    let has_header = params.iter().any(|p| p.parameter_in == ParameterIn::Header);
    let has_path = path.contains('{');
    let has_body = op.request_body.is_some();
    // Any operation reads the Authorization header when one is sent: a bad token is refused
    // even where none is needed.
    add(
        "401",
        "authentication required, or the token sent is invalid or expired",
    );
    // Public operations too: some of their options are for certain roles only.
    add("403", "the authorisation policy refuses this");
    if has_query || has_path || has_body || has_header {
        add(
            "400",
            "a malformed request: JSON syntax, query, path or header",
        );
    }
    if has_path {
        add("404", "no such resource, or not one you may see");
    }
    if has_query || has_body || has_path {
        add(
            "422",
            "invalid content: every bad field is named in `errors`",
        );
    }
    if has_body {
        add("413", "the body is too large");
        add("415", "the body's Content-Type is not accepted");
    }
    add("500", "an internal error; retry later");
}

/// The `type` of the Problem schema: one of [`PROBLEM_TYPES`].
fn problem_types(doc: &mut OpenApi) {
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    if let Some(RefOr::T(Schema::Object(problem))) = components.schemas.get_mut("Problem") {
        let list = PROBLEM_TYPES
            .iter()
            .map(|(t, why)| format!("`{t}`: {why}"))
            .collect::<Vec<_>>()
            .join("; ");
        problem.properties.insert(
            "type".to_owned(),
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(PROBLEM_TYPES.iter().map(|(t, _)| *t)))
                .description(Some(format!(
                    "A stable URI naming the kind of problem: {list}."
                )))
                .into(),
        );
    }
}

/// Applies [`complete`] to every operation of the API, and lists the problem types.
pub fn complete_all(doc: &mut OpenApi) {
    problem_types(doc);
    for (path, item) in doc.paths.paths.iter_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ]
        .into_iter()
        .flatten()
        {
            complete(op, path);
        }
    }
}
