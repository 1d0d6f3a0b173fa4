#!/usr/bin/env bash
# Generates the emulator's video assets with Debian's ffmpeg. Run by hand; never by tests.
#   assets/video/camera.h264  640x360, 25 fps, 2 s, baseline, keyframe every 25 frames, Annex B with AUDs
#   assets/video/share.h264   1280x720, 5 fps, 4 s, keyframe every 5 frames
#   assets/frames/camera-N.jpg (320x180) and share-N.png (640x360), 5 of each
set -euo pipefail
cd "$(dirname "$0")/.."
ffmpeg -loglevel error -y -f lavfi -i "testsrc2=size=640x360:rate=25:duration=2" \
  -c:v libx264 -profile:v baseline -pix_fmt yuv420p -g 25 -keyint_min 25 -sc_threshold 0 -b:v 300k \
  -x264-params aud=1:repeat-headers=1 -bsf:v h264_mp4toannexb -f h264 assets/video/camera.h264
ffmpeg -loglevel error -y -f lavfi -i "smptebars=size=1280x720:rate=5:duration=4" \
  -c:v libx264 -profile:v baseline -pix_fmt yuv420p -g 5 -keyint_min 5 -sc_threshold 0 -b:v 150k \
  -x264-params aud=1:repeat-headers=1 -bsf:v h264_mp4toannexb -f h264 assets/video/share.h264
for i in 0 1 2 3 4; do
  ffmpeg -loglevel error -y -f lavfi -i "testsrc=size=320x180:rate=1:duration=1" -vf "hue=h=$((i * 60))" -frames:v 1 -q:v 6 "assets/frames/camera-$i.jpg"
  ffmpeg -loglevel error -y -f lavfi -i "smptebars=size=640x360:rate=1:duration=1" -vf "hue=h=$((i * 60))" -frames:v 1 "assets/frames/share-$i.png"
done
ls -la assets/video assets/frames
