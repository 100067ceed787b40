#!/usr/bin/env python3
"""Writes examples/sounds/big-gift.wav: LiveTrigger's own short fanfare for big gifts.

Synthesized here from scratch (standard library only), so the project owns it outright and it
can be rebuilt byte for byte: `python3 scripts/synth-big-gift.py`. A rising four-note brass-like
arpeggio, then a held major chord with a little vibrato; 1.6 s, 22,050 Hz, mono, 16-bit PCM.
"""
import math
import os
import struct
import wave

RATE = 22050
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "sounds", "big-gift.wav")

# (start s, length s, frequencies Hz, loudness)
NOTES = [
    (0.00, 0.16, [392.00], 0.55),                  # G4
    (0.15, 0.16, [523.25], 0.55),                  # C5
    (0.30, 0.16, [659.25], 0.55),                  # E5
    (0.45, 0.22, [783.99], 0.60),                  # G5
    (0.66, 0.94, [523.25, 659.25, 783.99, 1046.50], 0.42),  # C major chord, held
]
LENGTH = 1.6
# Odd-and-even harmonics falling off like a bright brass tone.
HARMONICS = [(1, 1.0), (2, 0.55), (3, 0.38), (4, 0.22), (5, 0.14), (6, 0.08)]


def envelope(t, length):
    attack, release = 0.012, min(0.25, length * 0.45)
    if t < attack:
        return t / attack
    if t > length - release:
        return max(0.0, (length - t) / release)
    # A gentle decay while held.
    return 1.0 - 0.25 * (t - attack) / max(length, 1e-6)


def sample(t):
    total = 0.0
    for start, length, freqs, loud in NOTES:
        local = t - start
        if local < 0 or local > length:
            continue
        env = envelope(local, length)
        vibrato = 1.0 + 0.004 * math.sin(2 * math.pi * 5.5 * local) * min(1.0, local / 0.3)
        for f in freqs:
            for n, amp in HARMONICS:
                total += loud * env * amp * math.sin(2 * math.pi * f * n * vibrato * local) / len(freqs)
    return total


def main():
    frames = [sample(i / RATE) for i in range(int(LENGTH * RATE))]
    peak = max(abs(x) for x in frames) or 1.0
    scale = 0.8 * 32767 / peak
    data = b"".join(struct.pack("<h", int(round(x * scale))) for x in frames)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with wave.open(OUT, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(data)
    print(f"wrote {os.path.normpath(OUT)}: {len(frames) / RATE:.2f} s, {len(data)} bytes of samples")


if __name__ == "__main__":
    main()
