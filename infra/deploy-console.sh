#!/usr/bin/env bash
# Publishes the console to a deployed stack: builds console/dist, uploads it under console/ in the stack's
# ConsoleBucket (hashed assets cached for a year, index.html never), and invalidates CloudFront's copy of
# index.html. Run after `sam deploy` (which creates the bucket and the distribution: parameter Console=ENABLED).
#   infra/deploy-console.sh [STACK_NAME]   (default: ticketing-prod; needs the aws CLI and credentials)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
stack="${1:-ticketing-prod}"
output() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
bash "$root/infra/local/setup-console.sh"
bucket="$(output ConsoleBucketName)"
distribution="$(output ConsoleDistributionId)"
[ -n "$bucket" ] && [ "$bucket" != "None" ] || { echo "error: stack $stack has no ConsoleBucketName (Console=ENABLED?)" >&2; exit 1; }
aws s3 sync "$root/console/dist/assets" "s3://$bucket/console/assets" --exclude '*.gz' \
  --cache-control 'public, max-age=31536000, immutable'
aws s3 cp "$root/console/dist/index.html" "s3://$bucket/console/index.html" --cache-control 'no-cache'
aws cloudfront create-invalidation --distribution-id "$distribution" --paths '/console/index.html' '/console/' >/dev/null
echo "Console published: $(output ConsoleUrl)"
