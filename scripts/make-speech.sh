#!/usr/bin/env bash
# Generates assets/speech/lines.pcm (16 kHz mono s16le) and lines.json from the meeting script below,
# with espeak-ng (one voice per speaker) and sox. Run by hand when the script changes; never by tests.
set -euo pipefail
cd "$(dirname "$0")/.."
out=assets/speech
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# speaker|user_id|espeak voice|pitch|text
lines=(
  "Ada|16778240|en-us+f3|55|Good morning everyone, let's start with the quarterly roadmap."
  "Grace|16779264|en-gb+f4|65|The new ingestion service is live and the latency budget holds."
  "Linus|16780288|en-us+m3|40|We still drop a few frames when a worker restarts."
  "Margaret|16781312|en-gb+f2|50|Then let's add a failover test before Friday."
  "Ada|16778240|en-us+f3|55|Agreed. Grace, can you share the dashboard?"
  "Grace|16779264|en-gb+f4|65|Sharing now. Transcripts appear within one second."
  "Linus|16780288|en-us+m3|40|The recording files look clean, no gaps this week."
  "Margaret|16781312|en-gb+f2|50|Great work. Let's review the search feature next time."
)
json="["
offset=0
i=0
: > "$tmp/all.raw"
for entry in "${lines[@]}"; do
  IFS='|' read -r speaker uid voice pitch text <<<"$entry"
  espeak-ng -v "$voice" -p "$pitch" -s 165 -w "$tmp/$i.wav" "$text"
  sox "$tmp/$i.wav" -r 16000 -c 1 -b 16 -e signed-integer -L "$tmp/$i.raw" norm -3
  bytes=$(stat -c %s "$tmp/$i.raw")
  samples=$((bytes / 2))
  cat "$tmp/$i.raw" >> "$tmp/all.raw"
  [ $i -gt 0 ] && json+=","
  esc=${text//\"/\\\"}
  json+=$'\n'"  {\"speaker\": \"$speaker\", \"user_id\": $uid, \"text\": \"$esc\", \"offset_samples\": $offset, \"length_samples\": $samples}"
  offset=$((offset + samples))
  i=$((i + 1))
done
json+=$'\n]\n'
cp "$tmp/all.raw" "$out/lines.pcm"
printf '%s' "$json" > "$out/lines.json"
echo "wrote $out/lines.pcm ($((offset / 16000)) s) and $out/lines.json"
