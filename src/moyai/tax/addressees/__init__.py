"""税務宛名: the addressee base shared by every tax 業務 (residents, 住登外, 法人, 共有)."""
