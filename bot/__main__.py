"""Command line: `python -m bot run | db upgrade | content check | seed demo | i18n ...`."""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import logging
import sys
from pathlib import Path

from bot.config import Settings
from bot.logging_setup import install_redaction
from bot.runtime.retention import register_cli as register_privacy_cli


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # SQL statements and HTTP request lines carry user data and tokens: keep them out of logs.
    for noisy in ("sqlalchemy.engine", "aiosqlite", "httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    install_redaction(Settings())


def cmd_content_check(args: argparse.Namespace) -> int:
    from bot.content.loader import load_content

    settings = Settings()
    content = load_content(settings.content_dir)
    try:
        from bot.content.checks import extra_checks
    except ImportError:
        extra_checks = None
    if extra_checks is not None and content.ok:
        content.errors.extend(extra_checks(content))
    summary = content.summary()
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        for err in summary["errors"]:
            print(err)
        for topic, t in summary["topics"].items():
            print(
                f"{topic}: {t['lessons']['primary']} primary + {t['lessons']['lower_secondary']} lower-secondary "
                f"lessons, {t['questions']} questions"
            )
        print(f"sources: {summary['sources']}; {'OK' if summary['ok'] else str(len(summary['errors'])) + ' errors'}")
    return 0 if summary["ok"] else 1


def cmd_content_xlsx(args: argparse.Namespace) -> int:
    from bot.content import xlsx
    from bot.content.loader import load_content

    settings = Settings()
    if args.content_cmd == "export-xlsx":
        xlsx.export_bank(load_content(settings.content_dir), Path(args.file))
        print(f"Đã xuất ngân hàng câu hỏi ra {args.file}")
        return 0
    errors = xlsx.import_bank(Path(args.file), settings.content_dir)
    for err in errors:
        print(err)
    print("Không ghi gì vì có lỗi." if errors else "Đã nhập ngân hàng câu hỏi.")
    return 1 if errors else 0


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    from db.migrate import upgrade

    upgrade(Settings().database_url)
    print("Cơ sở dữ liệu đã ở phiên bản mới nhất.")
    return 0


async def _seed(settings: Settings) -> None:
    from bot.app import build_app
    from bot.seed import seed_demo
    from db.migrate import upgrade_async

    await upgrade_async(settings.database_url)
    app = build_app(settings)
    try:
        info = await seed_demo(app)
        print(f"Trường thử nghiệm đã sẵn sàng. Lớp {info.class_name}, mã lớp: {info.class_code}")
    finally:
        await app.close()


def cmd_seed(_args: argparse.Namespace) -> int:
    asyncio.run(_seed(Settings()))
    return 0


def _channels(settings: Settings, wanted: list[str] | None) -> list[str]:
    if wanted:
        return wanted
    found = [
        name
        for name, token in (("telegram", settings.telegram_bot_token), ("zalo", settings.zalo_bot_token))
        if token is not None
    ]
    return found or ["console"]


async def _run(settings: Settings, channels: list[str]) -> None:
    from bot.app import bootstrap_organizers, build_app
    from db.migrate import upgrade_async

    await upgrade_async(settings.database_url)
    app = build_app(settings)
    try:
        await bootstrap_organizers(app)
        if channels == ["console"]:
            from bot.channels.console.app import USER_HELP, run_console
            from bot.seed import seed_demo

            info = await seed_demo(app)
            banner = "\n".join(
                [
                    "antt-bot – chế độ thử trên màn hình (console)",
                    f"Trường thử nghiệm: lớp {info.class_name}, mã lớp: {info.class_code}",
                    USER_HELP,
                    "Bắt đầu bằng cách gõ /start",
                ]
            )
            await run_console(app.dispatcher, banner)
            return
        # A burst of updates makes many short-lived objects: with the default thresholds the garbage collector
        # takes a large share of the CPU. Start-up objects (content, ORM metadata) are frozen out of its scans.
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
        from bot.runtime.jobs import serve
        from bot.runtime.signals import stop_on_signals

        # One stop event for every channel and job: SIGTERM/SIGINT stop them all, each finishing its work in hand.
        stop = asyncio.Event()
        with stop_on_signals(stop):
            await serve(app, channels, stop, notice_seconds=settings.contest_notice_seconds)
    finally:
        await app.close()


def cmd_run(args: argparse.Namespace) -> int:
    settings = Settings()
    _setup_logging(settings.log_level if args.channel != ["console"] else "WARNING")
    channels = _channels(settings, args.channel)
    if channels == ["console"]:
        logging.getLogger().setLevel(logging.WARNING)
    try:
        asyncio.run(_run(settings, channels))
    except KeyboardInterrupt:
        pass
    return 0


def cmd_i18n(args: argparse.Namespace) -> int:
    from bot import i18n_tools

    return i18n_tools.main(args.i18n_cmd)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="antt-bot: trợ lý học pháp luật cho trường học")
    sub = parser.add_subparsers(dest="cmd", required=True)

    run = sub.add_parser("run", help="chạy bot (không có token: chế độ console với trường thử nghiệm)")
    run.add_argument(
        "--channel",
        action="append",
        choices=["telegram", "zalo", "console"],
        help="kênh chạy (có thể lặp lại); mặc định: các kênh có token, hoặc console",
    )
    run.set_defaults(func=cmd_run)

    db = sub.add_parser("db", help="cơ sở dữ liệu")
    db_sub = db.add_subparsers(dest="db_cmd", required=True)
    db_sub.add_parser("upgrade", help="áp dụng mọi migration").set_defaults(func=cmd_db_upgrade)

    content = sub.add_parser("content", help="nội dung bài học và câu hỏi")
    c_sub = content.add_subparsers(dest="content_cmd", required=True)
    check = c_sub.add_parser("check", help="kiểm tra toàn bộ nội dung")
    check.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    check.set_defaults(func=cmd_content_check)
    for name, text in (
        ("export-xlsx", "xuất ngân hàng câu hỏi ra Excel"),
        ("import-xlsx", "nhập câu hỏi từ Excel"),
    ):
        p = c_sub.add_parser(name, help=text)
        p.add_argument("file")
        p.set_defaults(func=cmd_content_xlsx)

    seed = sub.add_parser("seed", help="dữ liệu mẫu")
    s_sub = seed.add_subparsers(dest="seed_cmd", required=True)
    s_sub.add_parser("demo", help="tạo trường thử nghiệm").set_defaults(func=cmd_seed)

    i18n = sub.add_parser("i18n", help="bản dịch (Babel)")
    i_sub = i18n.add_subparsers(dest="i18n_cmd", required=True)
    for name, text in (
        ("extract", "trích chuỗi ra messages.pot và cập nhật .po"),
        ("compile", "biên dịch .po ra .mo"),
        ("check", "liệt kê chuỗi chưa dịch; mã thoát 1 nếu còn chuỗi chưa dịch"),
    ):
        i_sub.add_parser(name, help=text).set_defaults(func=cmd_i18n)
    importlib.import_module("bot.contests.cli").register_cli(sub)
    importlib.import_module("bot.rosters.cli").register_cli(sub)  # class ..., broadcast ...
    importlib.import_module("bot.reports.cli").register_cli(sub)
    register_privacy_cli(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
