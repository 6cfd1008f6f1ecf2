from amr_emulator.protocol.slots import SLOTS, crc16, key_slot


def test_crc16_vector():
    assert crc16(b"123456789") == 0x31C3


def test_known_slots():
    assert key_slot(b"foo") == 12182
    assert key_slot(b"{user1000}.following") == 3443
    assert key_slot(b"{user1000}.followers") == 3443


def test_hash_tag_rules():
    assert key_slot(b"foo{}{bar}") == key_slot(b"foo{}{bar}")  # an empty tag means the whole key
    assert key_slot(b"foo{}{bar}") != key_slot(b"bar")
    assert key_slot(b"foo{{bar}}zap") == key_slot(b"{bar")
    assert key_slot(b"foo{bar}{zap}") == key_slot(b"bar")
    assert key_slot(b"{") == crc16(b"{") % SLOTS


def test_range():
    assert all(0 <= key_slot(b"key:%d" % i) < SLOTS for i in range(1000))
