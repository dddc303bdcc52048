# libcurl through Ruby's ffi gem (ruby-ethon): dlopen + dlsym.
# usage: ruby ethon_req.rb [--post] URL...
# One line per URL: `url=U rc=SYM status=S body_len=L body=B`; exit 0 when every transfer returned :ok.
require "mime/types/logger"   # ethon loads mime-types, which now and then (about 1 run in 130) warns
MIME::Types.logger = Logger.new(IO::NULL)   # "Type application/netcdf is already registered..." (ruby-mime-types#163)
require "ethon"
post = ARGV.delete("--post")
BODY = '{"Name":"ffi-ethon","n":3}'
failed = false
ARGV.each do |url|
  easy = Ethon::Easy.new
  opts = { headers: { "X-Ffi-Test" => "ruby-ethon", "Accept" => "application/json" } }
  opts[:body] = BODY if post
  easy.http_request(url, post ? :post : :get, opts)
  rc = easy.perform                      # curl_easy_perform's result as a Symbol, :ok on success
  body = easy.response_body.to_s
  puts "url=#{url} rc=#{rc} status=#{easy.response_code} body_len=#{body.bytesize} body=#{body.gsub("\n", '\n')}"
  $stdout.flush
  failed ||= rc != :ok
end
exit(failed ? 1 : 0)
