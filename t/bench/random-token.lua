-- wrk script for t/bench/run.sh: every request carries a token picked at
-- random from a file (one token a line), as `Authorization: Bearer`.
--
--     wrk ... -s random-token.lua http://127.0.0.1:PORT/path -- tokens.txt
--
-- The requests are formatted once per thread in init(), so that request()
-- only picks one: the client's cost stays the same for every variant.
-- done() prints one machine-readable line, read by run.sh:
--
--     BENCH requests=N duration_us=N p50_us=N p99_us=N non2xx=N
--           connect=N read=N write=N timeout=N
--
-- (non2xx is wrk's "Non-2xx or 3xx responses", i.e. status > 399.)

local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("thread_id", counter)
end

local reqs = {}
local n = 0

function init(args)
    local file = args[1]
    if not file then
        error("random-token.lua: pass the tokens file after --")
    end
    for line in io.lines(file) do
        if #line > 0 then
            n = n + 1
            reqs[n] = wrk.format("GET", wrk.path,
                                 { ["Authorization"] = "Bearer " .. line })
        end
    end
    if n == 0 then
        error("random-token.lua: no tokens in " .. file)
    end
    math.randomseed(os.time() * 131 + (thread_id or 0) * 7919)
end

function request()
    return reqs[math.random(n)]
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d "
        .. "connect=%d read=%d write=%d timeout=%d\n",
        summary.requests, summary.duration,
        math.floor(latency:percentile(50)), math.floor(latency:percentile(99)),
        e.status, e.connect, e.read, e.write, e.timeout))
end
