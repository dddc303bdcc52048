"""The integration tests: real programs (the curl CLI, pycurl, PHP, git, FFI
bindings, our own C clients) run under `ampshim run` against the mock proxy
(tests/mock_proxy.py) on loopback; each test checks what actually arrived there.

harness.py holds what the tests share (the mocks, the context each test is
given, the @test registry, the runner); each other module holds the tests of
one concern (harness.CONCERNS). run.py runs them, all or by concern or name."""
