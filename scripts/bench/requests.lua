-- wrk script for scripts/bench/run.py: POSTs requests drawn at random from a file prepared by run.py.
-- Usage: wrk -s requests.lua <url> -- <requests file>
-- Each line of the file is: path <TAB> headers <TAB> JSON body, the headers as `Name: value` pairs joined by
-- `;;` (may be empty). A body holding {{seq}} gets a number no other request of the run gets (new BackendIDs
-- for pushes). At the end it prints one JSON line with the figures run.py reads (latencies in microseconds).

local prepared = {}
local counter = 0
local thread_id = 0
local nonce = ""  -- drawn per wrk run and thread (random_hex): no two runs share a number
local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("id", #threads)  -- a global of that thread's own Lua state
end

function init(args)
  thread_id = id or 0
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    local path, header_block, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = { ["Content-Type"] = "application/json" }
    for name, value in header_block:gmatch("([^:;]+):%s*([^;]*)") do headers[name] = value end
    if body:find("{{seq}}", 1, true) then
      prepared[#prepared + 1] = { path = path, headers = headers, body = body }
    else
      prepared[#prepared + 1] = wrk.format("POST", path, headers, body)
    end
  end
  file:close()
  math.randomseed(os.time() + thread_id * 7919 + math.floor(os.clock() * 1000000))
  nonce = random_hex()
end

-- 12 hex digits from /dev/urandom: the nonce of this run's thread. (A seed from the time in seconds plus the CPU
-- time in microseconds, as before, repeated between runs minutes apart, whose pushes then reused BackendIDs.)
function random_hex()
  local f = assert(io.open("/dev/urandom", "rb"))
  local bytes = f:read(6)
  f:close()
  return (bytes:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

function request()
  local chosen = prepared[math.random(#prepared)]
  if type(chosen) == "string" then return chosen end
  counter = counter + 1
  local seq = string.format("%s-%d-%d", nonce, thread_id, counter)
  return wrk.format("POST", chosen.path, chosen.headers, (chosen.body:gsub("{{seq}}", seq)))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
