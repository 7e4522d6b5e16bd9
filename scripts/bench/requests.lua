-- wrk script for scripts/bench/run.py: POSTs requests drawn at random from a file prepared by run.py.
-- Usage: wrk -s requests.lua <url> -- <requests file>
-- Each line of the file is: path <TAB> Authorization header (may be empty) <TAB> JSON body.
-- At the end it prints one JSON line with the figures run.py reads (latencies in microseconds).

local prepared = {}

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    local path, auth, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = { ["Content-Type"] = "application/json" }
    if auth ~= "" then headers["Authorization"] = auth end
    prepared[#prepared + 1] = wrk.format("POST", path, headers, body)
  end
  file:close()
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

function request()
  return prepared[math.random(#prepared)]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
