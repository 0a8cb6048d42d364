-- wrk script for t/100-cache.t ("1,000,000 distinct tokens through a zone
-- of 1 MiB"): every request carries a token made from a counter, each
-- token is used exactly once, and every answer is checked.
--
--     wrk -t T -c C -d 300s -s t/cache/lru.lua URL/mem \
--         -- <first> <last> <T> <hot_every> <done_dir>
--
-- Token i (first <= i <= last) is  "cachelru" .. ("v" if i is even, else
-- "u") .. i on 11 digits  (20 characters, a valid b64token).  The test
-- seeds the even ones in Redis with workspace
-- "00000000-0000-4000-8000-" .. i on 12 digits; the odd ones exist
-- nowhere.  Thread k (0-based) sends i = first + k, first + k + T, ...
-- Every <hot_every>th request of a thread (0: never) carries instead the
-- "hot" token, "cachelruhot000000000", workspace
-- 00000000-0000-4000-8000-999999999999, so that it stays recently used.
--
-- The location answers 200 with the token's workspace in X-WS, or 401;
-- it echoes the request's ?n= in X-N and $wsgate_cache_status in
-- X-Cache, so each answer can be matched with its token:
--   even i: 200 and X-WS = its workspace;  odd i: 401 and no X-WS;
--   hot: 200 and its workspace;  a token's only use: never X-Cache HIT.
--
-- A thread that has had the answers for all its tokens writes
-- <done_dir>/done-<k> and stops; the test then sends wrk SIGINT (wrk
-- itself would wait for -d).  A thread's first request, and every request
-- after its last token, is GET /ping (no X-N), which is not counted.
-- done() prints one line:
--
--     LRU answered=N good=N bad=N hot=N hot_bad=N miss=N hit=N other=N
--         non_token=N errors=connect/read/write/status/timeout first_bad=...
--
-- (errors: wrk's own counts; its "status" counts every answer >= 400,
-- the 401s included.)

local threads = {}
local nthreads_setup = 0

function setup(thread)
    thread:set("tid", nthreads_setup)
    nthreads_setup = nthreads_setup + 1
    table.insert(threads, thread)
end

local first, last, nthreads, hot_every, done_dir
local nexti, mine, sent
local HOT = "cachelruhot000000000"
local HOT_WS = "00000000-0000-4000-8000-999999999999"

local function token(i)
    return string.format("cachelru%s%011d", (i % 2 == 0) and "v" or "u", i)
end

local function ws(i)
    return string.format("00000000-0000-4000-8000-%012d", i)
end

function init(args)
    first = tonumber(args[1])
    last = tonumber(args[2])
    nthreads = tonumber(args[3])
    hot_every = tonumber(args[4])
    done_dir = args[5]
    if not (first and last and nthreads and hot_every and done_dir) then
        error("lru.lua: -- <first> <last> <threads> <hot_every> <done_dir>")
    end
    nexti = first + tid
    mine = 0
    if nexti <= last then
        mine = math.floor((last - nexti) / nthreads) + 1
    end
    sent = 0
    primed = false
    answered = 0
    good = 0
    bad = 0
    hot = 0
    hot_bad = 0
    miss = 0
    hit = 0
    other = 0
    non_token = 0
    first_bad = ""
    finished = false
    if mine == 0 then
        finish()
    end
end

function finish()
    if finished then
        return
    end
    finished = true
    local f = io.open(done_dir .. "/done-" .. tid, "w")
    if f then
        f:write(answered .. "\n")
        f:close()
    end
    wrk.thread:stop()
end

function request()
    -- wrk (4.1) calls request() of thread 0 once right after init() to
    -- look at the request, and never sends that one: a /ping, in every
    -- thread, so that no token is lost that way
    if not primed then
        primed = true
        return wrk.format("GET", "/ping")
    end
    sent = sent + 1
    if hot_every > 0 and sent % hot_every == 0 then
        return wrk.format("GET", "/mem?n=hot",
                          { ["Authorization"] = "Bearer " .. HOT })
    end
    if nexti > last then
        return wrk.format("GET", "/ping")
    end
    local i = nexti
    nexti = nexti + nthreads
    return wrk.format("GET", "/mem?n=" .. i,
                      { ["Authorization"] = "Bearer " .. token(i) })
end

local function header(headers, name)
    return headers[name] or headers[string.lower(name)]
end

local function wrong(what)
    bad = bad + 1
    if bad <= 5 then
        first_bad = first_bad .. "[" .. what .. "]"
    end
end

function response(status, headers, body)
    local n = header(headers, "X-N")
    if n == nil or n == "" then
        non_token = non_token + 1
        return
    end
    local got_ws = header(headers, "X-WS") or ""
    local cache = header(headers, "X-Cache") or ""

    if n == "hot" then
        hot = hot + 1
        if status ~= 200 or got_ws ~= HOT_WS then
            hot_bad = hot_bad + 1
            wrong("hot: " .. status .. " ws=" .. got_ws)
        end
        return
    end

    local i = tonumber(n)
    answered = answered + 1
    if cache == "MISS" then
        miss = miss + 1
    elseif cache == "HIT" then
        hit = hit + 1
    else
        other = other + 1
    end

    if i == nil then
        wrong("n=" .. n)
    elseif i % 2 == 0 then
        if status == 200 and got_ws == ws(i) and cache ~= "HIT" then
            good = good + 1
        else
            wrong(i .. ": " .. status .. " ws=" .. got_ws .. " " .. cache)
        end
    else
        if status == 401 and got_ws == "" and cache ~= "HIT" then
            good = good + 1
        else
            wrong(i .. ": " .. status .. " ws=" .. got_ws .. " " .. cache)
        end
    end

    if answered >= mine then
        finish()
    end
end

function done(summary, latency, requests)
    local t = { answered = 0, good = 0, bad = 0, hot = 0, hot_bad = 0,
                miss = 0, hit = 0, other = 0, non_token = 0 }
    local fb = ""
    for _, thread in ipairs(threads) do
        for k, _ in pairs(t) do
            t[k] = t[k] + (thread:get(k) or 0)
        end
        fb = fb .. (thread:get("first_bad") or "")
    end
    local e = summary.errors
    io.write(string.format(
        "LRU answered=%d good=%d bad=%d hot=%d hot_bad=%d miss=%d hit=%d "
        .. "other=%d non_token=%d errors=%d/%d/%d/%d/%d first_bad=%s\n",
        t.answered, t.good, t.bad, t.hot, t.hot_bad, t.miss, t.hit,
        t.other, t.non_token, e.connect, e.read, e.write, e.status,
        e.timeout, fb))
end
