-- Allocation-heavy Lua workload for the real-program test: tables, string building, closures
-- and garbage collection cycles. Prints a checksum that must not depend on the allocator.
local function checksum(s, acc)
  for i = 1, #s, 7 do acc = (acc * 31 + s:byte(i)) % 4294967291 end
  return acc
end

local acc = 7
for round = 1, 8 do
  local t = {}
  for i = 1, 60000 do
    t[i] = { id = i, name = "item" .. i, tags = { i % 3, i % 5, i % 7 } }
  end
  table.sort(t, function(a, b)
    if a.tags[2] ~= b.tags[2] then return a.tags[2] < b.tags[2] end
    return a.id > b.id
  end)
  local parts = {}
  for i = 1, #t, 3 do parts[#parts + 1] = t[i].name end
  local s = table.concat(parts, ",")
  acc = checksum(s, acc)
  local map = {}
  for i = 1, 40000 do map["k" .. (i * 7919 % 100003)] = string.rep("x", i % 50) end
  local n = 0
  for k, v in pairs(map) do n = n + #k + #v end
  acc = (acc + n) % 4294967291
  local fns = {}
  for i = 1, 20000 do fns[i] = function(x) return x + i end end
  local sum = 0
  for i = 1, #fns, 11 do sum = sum + fns[i](round) end
  acc = (acc + sum) % 4294967291
  local str = ""
  for i = 1, 3000 do str = str .. tostring(i) if #str > 2000 then str = str:sub(1000) end end
  acc = checksum(str, acc)
  collectgarbage("collect")
end
print("lua alloc_heavy checksum", acc)
