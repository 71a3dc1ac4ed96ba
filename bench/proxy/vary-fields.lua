-- a new path and a new request id on every request: neither the head nor its header fields ever
-- repeat (securely's parse of a whole head, nothing reused)
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/item/" .. counter, { ["User-Agent"] = "wrk", ["Accept"] = "application/json", ["X-Request-Id"] = tostring(counter) })
end
