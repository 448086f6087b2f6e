//! The whole HTTP contract (`contract/cases.json`), case by case, through `app().oneshot(...)` (the
//! conformance suite, lab/qr-harness/tests/conformance/, sends every case to the qr-server
//! binary over a socket); plus keep-alive and the head size limit over a socket.

mod common;

use axum::body::Body;
use axum::http::{Request, Uri};
use common::*;
use qr_core::{EcLevel, Format, Options};
use qr_harness::Stack;
use qr_harness::contract::{self, Case, Contract, Expect, Image};
use qr_harness::http::{self, Headers, Response};
use qr_server::{ServeConfig, qrcode_query};
use tower::ServiceExt;

/// `method target` with `headers` through the router, in-process.
fn oneshot(
    runtime: &tokio::runtime::Runtime,
    method: &str,
    target: &str,
    headers: &Headers,
) -> Result<Response, String> {
    let uri: Uri = target.parse().map_err(|e| format!("{target:?}: {e}"))?;
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let request = request.body(Body::empty()).map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let response = default_app().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let headers = (response.headers().iter())
            .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
            .collect();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .map_err(|e| e.to_string())?
            .to_vec();
        Ok(Response {
            status,
            headers,
            body,
        })
    })
}

/// An image answer to `case` must be exactly the core's bytes for the options of its query (as
/// the server's parser reads them: its rules are held to the table's error cases), and a PNG with
/// the default options must read back as its text (rqrr). The conformance suite adds the other decoders, the SVG
/// raster and the pixels.
fn image_check(case: &Case) -> impl Fn(&Image, &[u8]) -> Result<(), String> {
    move |image, body| {
        let query = case.target.split_once('?').map(|(_, query)| query);
        let options = qrcode_query(query).map_err(|e| e.to_string())?.options;
        let expected = qr_core::generate(&image.text, &options).map_err(|e| e.to_string())?;
        if body != expected {
            return Err("not the core's bytes".into());
        }
        if options == Options::default() {
            let decoded = qr_decode::decode(body)?;
            if decoded != image.text.as_bytes() {
                let decoded = String::from_utf8_lossy(&decoded);
                return Err(format!("decodes to {decoded:?}"));
            }
        }
        Ok(())
    }
}

#[test]
fn contract_through_the_router() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut skipped = Vec::new();
    let mut failures = Vec::new();
    for case in Contract::load().unwrap().cases(Stack::Axum) {
        // The HTTP layer's own answers (431) and targets a `Uri` cannot hold (raw UTF-8, raw `<`
        // and its kin, a fragment) only exist over a socket: the conformance suite and the
        // binary's tests send those.
        if case.target.parse::<Uri>().is_err() || matches!(case.expect, Expect::Status(_)) {
            skipped.push(case.name);
            continue;
        }
        let send = |method: &str, target: &str, headers: &Headers| {
            oneshot(&runtime, method, target, headers)
        };
        if let Err(e) = contract::run(&case, send, image_check(&case)) {
            failures.push(format!("{}: {e}", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(skipped.len() <= 10, "too many cases skipped: {skipped:?}");
}

/// Every option the table asks for is a case here, so that none is left to the socket alone.
#[test]
fn the_table_s_option_cases_run_in_process() {
    let contract = Contract::load().unwrap();
    let in_process = (contract.cases(Stack::Axum).into_iter())
        .filter(|case| case.target.parse::<Uri>().is_ok())
        .filter_map(|case| {
            let query = case.target.split_once('?')?.1.to_owned();
            Some(qrcode_query(Some(&query)).ok()?.options)
        })
        .collect::<Vec<Options>>();
    for asked in [
        |o: &Options| o.format == Format::Svg,
        |o: &Options| o.size.is_some(),
        |o: &Options| o.ec_level == EcLevel::H,
        |o: &Options| !o.is_black_on_white(),
    ] {
        assert!(in_process.iter().any(asked));
    }
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    use std::io::{BufReader, Write};

    let server = TestServer::start(default_app(), ServeConfig::default());
    let stream = http::connect(server.addr).unwrap();
    let keep_alive = http::request_bytes("GET", "/qrcode?text=one", &[], server.addr, false);
    let last = http::request_bytes("GET", "/qrcode?text=two", &[], server.addr, true);
    (&stream).write_all(&[keep_alive, last].concat()).unwrap();
    let mut reader = BufReader::new(stream);
    let first = http::read_response(&mut reader, false).unwrap();
    assert_eq!(decode(&first.body), b"one");
    let second = http::read_response(&mut reader, false).unwrap();
    assert_eq!(decode(&second.body), b"two");
    server.stop().unwrap();
}

#[test]
fn head_up_to_64_kib_reaches_the_app_and_more_is_431() {
    let server = TestServer::start(default_app(), ServeConfig::default());
    // A head just under 64 KiB in all is read whole and judged by the app.
    let fill = 64 * 1024 - request("GET", "/qrcode?text=").len() - 1;
    let at_limit = request("GET", &format!("/qrcode?text={}", "a".repeat(fill)));
    let reply = send(server.addr, &at_limit);
    let too_long = qr_core::QrError::TooLong.to_string();
    assert_eq!((reply.status, &reply.body[..]), (400, too_long.as_bytes()));
    // Beyond 64 KiB the HTTP layer refuses it.
    let too_big = request("GET", &format!("/qrcode?text={}", "a".repeat(70_000)));
    assert_eq!(send(server.addr, &too_big).status, 431);
    server.stop().unwrap();
}
