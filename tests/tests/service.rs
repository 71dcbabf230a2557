//! The service answers on a real loopback socket.

#[tokio::test]
async fn healthz_and_readyz_answer_over_http() {
    let address = carescore_e2e::start_service().await;
    let (status, body) = carescore_e2e::http_get(address, "/healthz").await.unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("\"status\":\"ok\""), "{body}");
    let (status, _) = carescore_e2e::http_get(address, "/readyz").await.unwrap();
    assert_eq!(status, 200);
    let (status, _) = carescore_e2e::http_get(address, "/v1/nothing-here").await.unwrap();
    assert_eq!(status, 404);
}
