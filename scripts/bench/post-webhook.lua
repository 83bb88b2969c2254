-- wrk: POST the confirmed-webhook fixture.
local f = assert(io.open(os.getenv("BXT_BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
