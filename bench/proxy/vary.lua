-- a new path on every request, and the headers a small API client sends: no two request heads
-- repeat, their header fields do (see vary-fields.lua for heads whose fields never repeat either)
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/item/" .. counter, { ["User-Agent"] = "wrk", ["Accept"] = "application/json" })
end
