#!/bin/bash
while read -r line; do [ -z "$line" ] && continue; echo "=== $line"; python3 /root/run_story.py $line; done < "$1"
