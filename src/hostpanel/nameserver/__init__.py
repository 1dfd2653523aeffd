"""The nameserver the panel runs or uses: PowerDNS started and watched by `hostpanel serve`, and the probe that asks
it what it serves."""
