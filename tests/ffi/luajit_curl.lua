-- libcurl through LuaJIT's FFI (dlopen + dlsym). usage: luajit luajit_curl.lua [--lib SONAME] [--post] [--multi] URL...
-- One line per URL: `url=U rc=N status=S body_len=L body=B`; exit 0 when every transfer returned CURLE_OK.
local ffi = require("ffi")
jit.off()  -- a Lua callback reached from JIT-compiled code is a "bad callback" error: keep the interpreter
ffi.cdef[[
typedef void CURL; typedef void CURLM; struct curl_slist;
typedef struct { int msg; CURL *easy_handle; union { void *whatever; int result; } data; } CURLMsg;
CURL *curl_easy_init(void); void curl_easy_cleanup(CURL *);
int curl_easy_setopt(CURL *, int, ...); int curl_easy_getinfo(CURL *, int, ...); int curl_easy_perform(CURL *);
struct curl_slist *curl_slist_append(struct curl_slist *, const char *); void curl_slist_free_all(struct curl_slist *);
CURLM *curl_multi_init(void); int curl_multi_cleanup(CURLM *);
int curl_multi_add_handle(CURLM *, CURL *); int curl_multi_remove_handle(CURLM *, CURL *);
int curl_multi_perform(CURLM *, int *); int curl_multi_poll(CURLM *, void *, unsigned, int, int *);
CURLMsg *curl_multi_info_read(CURLM *, int *);
]]
local lib, post, multi, urls = "libcurl.so.4", false, false, {}
local i = 1
while i <= #arg do
  local a = arg[i]
  if a == "--lib" then i = i + 1; lib = arg[i]
  elseif a == "--post" then post = true
  elseif a == "--multi" then multi = true
  else urls[#urls + 1] = a end
  i = i + 1
end
local C = ffi.load(lib)                            -- dlopen(lib); C.name -> dlsym(handle, "name")
local URL, WRITEFUNCTION, HTTPHEADER, POSTFIELDS, POSTFIELDSIZE = 10002, 20011, 10023, 10015, 60
local RESPONSE_CODE = 0x200002
local BODY = '{"Name":"ffi-luajit","n":5}'
local long = ffi.typeof("long")                    -- varargs: a Lua number would be passed as a double

local hdrs = C.curl_slist_append(nil, "X-Ffi-Test: luajit")
local xfers = {}
for n, url in ipairs(urls) do
  local h = C.curl_easy_init()
  local x = { url = url, h = h, chunks = {} }
  x.cb = ffi.cast("size_t (*)(char *, size_t, size_t, void *)", function(p, s, m, _)
    x.chunks[#x.chunks + 1] = ffi.string(p, s * m); return s * m end)
  assert(C.curl_easy_setopt(h, URL, url) == 0)
  assert(C.curl_easy_setopt(h, HTTPHEADER, hdrs) == 0)
  assert(C.curl_easy_setopt(h, WRITEFUNCTION, x.cb) == 0)
  if post then
    assert(C.curl_easy_setopt(h, POSTFIELDS, BODY) == 0)   -- BODY is a Lua constant: stays alive
    assert(C.curl_easy_setopt(h, POSTFIELDSIZE, long(#BODY)) == 0)
  end
  xfers[n] = x
end

if multi then
  local m, running, queued = C.curl_multi_init(), ffi.new("int[1]"), ffi.new("int[1]")
  local by_handle = {}
  for _, x in ipairs(xfers) do by_handle[tostring(ffi.cast("uintptr_t", x.h))] = x; assert(C.curl_multi_add_handle(m, x.h) == 0) end
  repeat
    assert(C.curl_multi_perform(m, running) == 0)
    while true do
      local msg = C.curl_multi_info_read(m, queued)
      if msg == nil then break end
      if msg.msg == 1 then
        by_handle[tostring(ffi.cast("uintptr_t", msg.easy_handle))].rc = msg.data.result
        C.curl_multi_remove_handle(m, msg.easy_handle)
      end
    end
    if running[0] > 0 then C.curl_multi_poll(m, nil, 0, 1000, nil) end
  until running[0] == 0
  C.curl_multi_cleanup(m)
else
  for _, x in ipairs(xfers) do x.rc = C.curl_easy_perform(x.h) end
end

local failed = false
for _, x in ipairs(xfers) do
  local status = ffi.new("long[1]")
  C.curl_easy_getinfo(x.h, RESPONSE_CODE, status)
  local body = table.concat(x.chunks)
  io.write(string.format("url=%s rc=%d status=%d body_len=%d body=%s\n", x.url, x.rc, tonumber(status[0]), #body, (body:gsub("\n", "\\n"))))
  failed = failed or x.rc ~= 0
  C.curl_easy_cleanup(x.h); x.cb:free()
end
C.curl_slist_free_all(hdrs)
os.exit(failed and 1 or 0)
