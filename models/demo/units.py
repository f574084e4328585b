"""Demo data: Quảng Ninh's real units plus generated villages, deterministic."""

from __future__ import annotations

import random
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.units.tables import Unit
from models.units.tree import add_unit, import_units, parse_unit_file

DATA_FILE = Path(__file__).resolve().parents[2] / "data" / "quang_ninh_units.csv"
TOTAL_VILLAGES = 1452  # villages that voted on 15/12/2024
HIGHLAND = ("Bình Liêu", "Hoành Mô", "Lục Hồn", "Ba Chẽ", "Kỳ Thượng", "Lương Minh", "Đình Lập",
            "Húc Động", "Đồng Văn", "Điền Xá", "Quảng Đức", "Hải Sơn", "Đồng Tâm", "Vô Ngại")
BAN_NAMES = ("Khe Tiền", "Nà Làng", "Pắc Cương", "Khe Lục", "Nà Ếch", "Cao Sơn", "Đồng Thầm", "Khe Mọi",
             "Làng Đài", "Nà Áng", "Pò Hèn", "Tầu Tiên", "Khe Quang", "Loỏng Toỏng", "Nà Phạ", "Sú Cáu")
THON_NAMES = ("Đông", "Tây", "Nam", "Bắc", "Trung", "Thượng", "Hạ", "Tân Lập", "Đồng Tâm", "Bình An",
              "Hợp Thành", "Quyết Tiến", "Thắng Lợi", "Yên Hưng", "Phong Cốc", "Đoàn Kết", "Tân Tiến")


def village_names(commune: Unit, count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(type, name) pairs for ``count`` villages of a commune, named the way they are named."""
    if commune.type == "phường" or commune.type == "thị trấn":
        return [("khu phố", f"Khu {i}") for i in range(1, count + 1)]
    if any(h in commune.name for h in HIGHLAND):
        pool = list(BAN_NAMES)
        rng.shuffle(pool)
        named = [("bản", f"Bản {n}") for n in pool[: count // 2]]
        return named + [("thôn", f"Thôn {i}") for i in range(1, count - len(named) + 1)]
    pool = list(THON_NAMES)
    rng.shuffle(pool)
    named = [("thôn", f"Thôn {n}") for n in pool[: count // 3]]
    return named + [("thôn", f"Thôn {i}") for i in range(1, count - len(named) + 1)]


def split_total(n_communes: int, total: int, rng: random.Random) -> list[int]:
    """Village counts per commune, varied, summing to ``total`` exactly."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(n_communes)]
    scale = total / sum(weights)
    counts = [max(1, int(w * scale)) for w in weights]
    for i in range(total - sum(counts)):
        counts[i % n_communes] += 1
    return counts


async def seed_demo(session: AsyncSession, period: str, total_villages: int = TOTAL_VILLAGES) -> int:
    """Import the real units of ``period`` and generate villages; returns villages created.

    Idempotent: a period that already has villages is left as it is.
    """
    await import_units(session, parse_unit_file(DATA_FILE.read_bytes(), period=period))
    existing = (await session.execute(select(func.count()).select_from(Unit).where(
        col(Unit.period) == period, col(Unit.level) == "village"))).scalar_one()
    if existing:
        return 0
    communes = list((await session.execute(select(Unit).where(
        col(Unit.period) == period, col(Unit.level) == "commune").order_by(col(Unit.code)))).scalars().all())
    rng = random.Random(f"demo-{period}")
    created = 0
    for commune, count in zip(communes, split_total(len(communes), total_villages, rng), strict=True):
        for i, (vtype, full) in enumerate(village_names(commune, count, rng), start=1):
            name = full.split(" ", 1)[1]
            await add_unit(session, period=period, code=f"{commune.code}.{i:02d}", level="village", name=name,
                           parent=commune, type=vtype, full_name=full)
            created += 1
    return created
