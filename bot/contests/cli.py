"""`python -m bot contest create FILE | list | open ID | close ID | results ID | publish ID | export ID --out DIR`."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.content.loader import Content
from bot.contests import certificates, exports
from bot.contests import service as svc
from bot.contests.loader import DefinitionError, load_contest
from bot.contests.ports import ContestsUnitOfWork
from bot.core.clock import Clock, vn_time
from bot.core.i18n import I18n


@dataclass(frozen=True)
class Deps:
    """What these commands use; the composition root builds it."""

    uow_factory: Callable[[], ContestsUnitOfWork]
    clock: Clock
    content: Content
    i18n: I18n


Opener = Callable[[argparse.Namespace], AbstractAsyncContextManager[Deps]]


def register(subparsers: Any, open_deps: Opener) -> None:
    """Adds the `contest` command to the main CLI parser."""
    contest = subparsers.add_parser("contest", help="hội thi: tạo, mở/đóng đợt, kết quả, công bố, xuất")
    sub = contest.add_subparsers(dest="contest_cmd", required=True)
    create = sub.add_parser("create", help="tạo hội thi từ tệp YAML")
    create.add_argument("file", type=Path)
    sub.add_parser("list", help="liệt kê các hội thi và các đợt")
    for name, text in (
        ("open", "mở đợt thi"),
        ("close", "đóng đợt thi"),
        ("results", "xem xếp hạng và giải"),
        ("publish", "công bố kết quả (cần --yes)"),
        ("export", "xuất XLSX, CSV và giấy chứng nhận PDF"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("id", help="mã (slug) hoặc số của hội thi")
        p.add_argument("--round", type=int, default=None, help="số thứ tự đợt (mặc định: đợt hiện tại)")
        if name == "publish":
            p.add_argument("--yes", action="store_true", help="xác nhận công bố")
        if name == "export":
            p.add_argument("--out", type=Path, required=True, help="thư mục ghi tệp")
    contest.set_defaults(func=lambda args: asyncio.run(_run(open_deps, args)))


async def _run(open_deps: Opener, args: argparse.Namespace) -> int:
    async with open_deps(args) as deps:
        return await dispatch(deps, args)


async def dispatch(deps: Deps, args: argparse.Namespace) -> int:
    """Runs one subcommand (tests call it with their own `deps`)."""
    now = deps.clock()
    async with deps.uow_factory() as uow:
        await svc.close_overdue(uow, now)
        await uow.commit()
        if args.contest_cmd == "create":
            try:
                d = load_contest(args.file)
                created = await svc.create_contest(uow, d, None, now)
            except (DefinitionError, svc.ContestError) as exc:
                print(exc)
                return 1
            await uow.commit()
            for warning in svc.pool_warnings(deps.content, d, d.rounds[0].opens_at.date()):
                print(warning)
            print(f"Đã tạo hội thi {created.title} (số {created.id}, mã {created.slug}), {len(d.rounds)} đợt.")
            print(svc.prize_rules(d, str))
            return 0
        if args.contest_cmd == "list":
            for c in await uow.contests.all():
                print(f"{c.id}\t{c.slug}\t{c.title}")
                for r in await uow.contests.rounds(c.id):
                    print(
                        f"\t{r.number}. {r.name}\t{vn_time(r.opens_at)} → {vn_time(r.closes_at)}"
                        f"\t{svc.STATE_NAMES[svc.round_state(r, now)]}"
                    )
            return 0
        contest = await svc.find_contest(uow, args.id)
        if contest is None:
            print(f"Không tìm thấy hội thi {args.id}.")
            return 1
        rounds = await uow.contests.rounds(contest.id)
        rnd = (
            next((r for r in rounds if r.number == args.round), None)
            if args.round is not None
            else svc.current_round(rounds, now, ended=args.contest_cmd in ("results", "publish", "export"))
        )
        if rnd is None:
            print("Không tìm thấy đợt thi này.")
            return 1
        try:
            if args.contest_cmd == "open":
                await svc.open_round(uow, rnd, None, now)
                print(f"Đã mở {rnd.name}.")
            elif args.contest_cmd == "close":
                await svc.close_round(uow, rnd, None, now)
                print(f"Đã đóng {rnd.name}.")
            elif args.contest_cmd == "results":
                res = await svc.results(uow, contest, rnd)
                print(f"{contest.title} – {rnd.name}: {len(res.ranked)} bài, giá trị thực {res.actual}")
                for ranked in res.ranked:
                    print("\t".join(exports.row_text(ranked, res.flagged)))
                for u in res.units:
                    print(
                        f"tập thể {u.rank}. {u.unit.name}: {u.participants} người, {u.rate:.1%}"
                        + (" – giải" if u.prize else "")
                    )
            elif args.contest_cmd == "publish":
                if not args.yes:
                    res = await svc.results(uow, contest, rnd)
                    print(
                        f"Sẽ công bố {rnd.name}: {len(res.ranked)} bài, {len(res.winners)} giải. "
                        "Chạy lại với --yes để xác nhận."
                    )
                    return 1
                res = await svc.publish(uow, contest, rnd, None, now, deps.i18n.gettext)
                print(f"Đã công bố {rnd.name}: {len(res.winners)} giải; tin nhắn chúc mừng đang chờ gửi.")
            elif args.contest_cmd == "export":
                res = await svc.results(uow, contest, rnd)
                out: Path = args.out
                out.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240  (a one-shot CLI command)
                stem = exports.file_stem(res)
                (out / f"{stem}.xlsx").write_bytes(exports.results_xlsx(res))
                (out / f"{stem}.csv").write_bytes(exports.results_csv(res))
                pdf, pages = certificates.certificates_pdf(res)
                (out / f"{exports.file_stem(res, 'giay-chung-nhan')}.pdf").write_bytes(pdf)
                for fmt, rows in (("xlsx", len(res.ranked)), ("csv", len(res.ranked)), ("pdf", pages)):
                    await uow.audit.add(
                        None, "contest.export", f"round:{rnd.id}", {"format": fmt, "rows": rows, "via": "cli"}, now
                    )
                print(f"Đã ghi kết quả ({len(res.ranked)} dòng) và {pages} giấy chứng nhận vào {out}.")
        except svc.ContestError as exc:
            print(exc)
            return 1
        await uow.commit()
        return 0
