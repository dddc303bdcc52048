#!/bin/sh
# Installs what building, testing, packaging (make deb) and the demo need, when it is missing;
# packages given as arguments too (make asan, make fuzz name theirs).
# Debian packages only; needs root (or sudo) the first time.
set -e
pkgs="$* gcc make libc6-dev libcurl4-openssl-dev libcurl3-gnutls uthash-dev libconfig-dev libconfig9
      libcmocka-dev curl python3 python3-pycurl php-cli php-curl git openssl ca-certificates
      ruby-ethon luajit debhelper dpkg-dev lintian bash-completion fzf systemd
      php8.2-fpm apache2 libapache2-mod-php8.2 libfcgi-bin r-base-core r-cran-curl r-cran-httr faketime"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "ampshim: installing:$missing"
if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo=sudo; else
    echo "ampshim: run as root, or install:$missing" >&2; exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# The servers the tests start themselves (php-fpm, Apache) are not to be started as services by
# their packages (Apache would listen on port 80 of every address): a policy-rc.d that refuses
# every start while they are installed, when the machine has none of its own.
policy=/usr/sbin/policy-rc.d
if [ ! -e $policy ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee $policy >/dev/null && $sudo chmod 755 $policy
    trap '$sudo rm -f $policy' EXIT
fi
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
