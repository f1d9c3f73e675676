#!/usr/bin/env bash
# signer_setup.sh DIR - `npm ci` the webhook signer (the providers' own
# libraries: stripe, razorpay, standardwebhooks) in DIR, for the tests.
# The install and its TLS-intercepting-proxy fallback are npm_setup.sh's.
set -euo pipefail
exec bash "$(dirname "$0")/npm_setup.sh" "${1:?usage: signer_setup.sh DIR}" signer
