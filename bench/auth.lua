-- wrk script for bench/auth.sh: every request presents the next token of
-- the file given after "--", so the run cycles through all of them.
local tokens = {}
local i = 0
local path = "/v1/auth?scope=repo:read"

function init(args)
  for line in io.lines(args[1]) do
    tokens[#tokens + 1] = "Bearer " .. line
  end
  i = math.random(#tokens)
end

function request()
  i = i % #tokens + 1
  return wrk.format("GET", path, { ["Authorization"] = tokens[i] })
end

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. "\n")
  end
end
