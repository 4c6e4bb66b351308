-- wrk script for bench/exchange.sh: every request exchanges the next PAT
-- of the file given after "--" for a JWT (POST /oauth2/token).
local pats = {}
local i = 0

function init(args)
  for line in io.lines(args[1]) do
    pats[#pats + 1] = line
  end
  i = math.random(#pats)
end

function request()
  i = i % #pats + 1
  return wrk.format("POST", "/oauth2/token",
    { ["Content-Type"] = "application/x-www-form-urlencoded" },
    "grant_type=urn:ietf:params:oauth:grant-type:token-exchange" ..
    "&subject_token_type=urn:ietf:params:oauth:token-type:access_token" ..
    "&subject_token=" .. pats[i])
end

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. "\n")
  end
end
