-- wrk: POST the confirmed-webhook fixture, with the webhook token from BXT_BENCH_TOKEN when it is set
-- (every benchmarked ingress authenticates, except the one labelled "no auth").
local f = assert(io.open(os.getenv("BXT_BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("BXT_BENCH_TOKEN")
if token and token ~= "" then
    wrk.headers["X-Webhook-Token"] = token
end
-- A Standard Webhooks signature made once by ab-ingress.sh (BXT_BENCH_AUTH=signature).
local signature = os.getenv("BXT_BENCH_SIGNATURE")
if signature and signature ~= "" then
    wrk.headers["webhook-id"] = os.getenv("BXT_BENCH_WEBHOOK_ID")
    wrk.headers["webhook-timestamp"] = os.getenv("BXT_BENCH_TIMESTAMP")
    wrk.headers["webhook-signature"] = signature
end
