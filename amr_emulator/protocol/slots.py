"""Redis Cluster hash slots: CRC16 (XMODEM) of the key, or of its hash tag, modulo 16384."""
from binascii import crc_hqx

SLOTS = 16384


def crc16(data: bytes) -> int:
    """CRC16-CCITT/XMODEM, as Redis's crc16.c (binascii computes it in C)."""
    return crc_hqx(data, 0)


def key_slot(key: bytes) -> int:
    """The slot of `key`: only the part between the first `{` and the next `}` counts, if not empty."""
    start = key.find(b"{")
    if start != -1:
        end = key.find(b"}", start + 1)
        if end != -1 and end != start + 1:
            key = key[start + 1:end]
    return crc_hqx(key, 0) & 0x3FFF
