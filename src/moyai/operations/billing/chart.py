"""割り勘効果の図: cost per municipality against the number of members, as inline SVG.

Drawn on the server (no JavaScript, no chart library): a line for the running cost of one
municipality when ``n`` share the pools, a dashed line for going it alone (n = 1), and a dot for
each 年度 of the simulated scenario (its average cost, one-off 移行費 included).
"""

from __future__ import annotations

from html import escape

from moyai.operations.billing.rules import SimulationResult

WIDTH, HEIGHT = 680, 380
LEFT, RIGHT, TOP, BOTTOM = 86, 24, 28, 56


def _nice_step(span: float, ticks: int = 5) -> int:
    raw = max(span / ticks, 1)
    magnitude: int = 10 ** (len(str(int(raw))) - 1)
    for m in (1, 2, 5, 10):
        if raw <= m * magnitude:
            return m * magnitude
    return 10 * magnitude


def effect_chart_svg(result: SimulationResult) -> str:
    """The 割り勘効果 chart of ``result`` as an ``<svg>`` element (amounts in 万円 per year)."""
    curve = [(n, cost / 10_000) for n, cost in result.curve]
    dots = [(len(y.members), y.average / 10_000, y.year) for y in result.years if y.members]
    standalone = result.standalone / 10_000
    max_n = max(n for n, _ in curve)
    top = max([c for _, c in curve] + [d for _, d, _ in dots] + [standalone, 1])
    step = _nice_step(top)
    y_max = step * (int(top // step) + 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(n: float) -> float:
        return LEFT + (plot_w * (n - 1) / (max_n - 1) if max_n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / y_max)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" class="billing-chart" '
        'aria-labelledby="billing-chart-title">',
        '<title id="billing-chart-title">割り勘効果：構成団体数と1団体あたりの年間運用費用</title>',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" '
        'stroke="#999"/>',
    ]
    v = 0
    while v <= y_max:
        parts.append(
            f'<line x1="{LEFT}" y1="{y(v):.1f}" x2="{LEFT + plot_w}" y2="{y(v):.1f}" '
            'stroke="#e4e4e4"/>'
            f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="11">'
            f"{v:,}</text>"
        )
        v += step
    label_every = max(1, (max_n + 11) // 12)
    for n in range(1, max_n + 1):
        if (n - 1) % label_every == 0 or n == max_n:
            parts.append(
                f'<text x="{x(n):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" '
                f'font-size="11">{n}</text>'
            )
    parts.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 14}" text-anchor="middle" '
        'font-size="12">構成団体数</text>'
        f'<text x="16" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" font-size="12" '
        f'transform="rotate(-90 16 {TOP + plot_h / 2:.1f})">1団体あたり年間費用（万円）</text>'
    )
    parts.append(
        f'<line x1="{LEFT}" y1="{y(standalone):.1f}" x2="{LEFT + plot_w}" '
        f'y2="{y(standalone):.1f}" stroke="#b22" stroke-dasharray="6 4"/>'
        f'<text x="{LEFT + plot_w - 4}" y="{y(standalone) - 5:.1f}" text-anchor="end" '
        f'font-size="11" fill="#b22">単独運用 {standalone:,.0f}万円</text>'
    )
    points = " ".join(f"{x(n):.1f},{y(c):.1f}" for n, c in curve)
    parts.append(f'<polyline points="{points}" fill="none" stroke="#1f5fa8" stroke-width="2"/>')
    for n, c in curve:
        parts.append(
            f'<circle cx="{x(n):.1f}" cy="{y(c):.1f}" r="2.5" fill="#1f5fa8">'
            f"<title>{n}団体: 1団体あたり {c:,.0f}万円／年</title></circle>"
        )
    for n, avg, year in dots:
        parts.append(
            f'<circle cx="{x(n):.1f}" cy="{y(avg):.1f}" r="4.5" fill="none" stroke="#2a8a3a" '
            f'stroke-width="1.5"><title>{year}年度: {n}団体、平均 {avg:,.0f}万円'
            f"（移行費を含む）</title></circle>"
        )
    legend_y = TOP + 14
    lx = LEFT + plot_w - 250
    parts.append(
        f'<line x1="{lx}" y1="{legend_y}" x2="{lx + 24}" y2="{legend_y}" '
        'stroke="#1f5fa8" stroke-width="2"/>'
        f'<text x="{lx + 30}" y="{legend_y + 4}" font-size="11">運用費の割り勘（n団体）</text>'
        f'<circle cx="{lx + 12}" cy="{legend_y + 18}" r="4.5" fill="none" stroke="#2a8a3a"/>'
        f'<text x="{lx + 30}" y="{legend_y + 22}" font-size="11">'
        f"{escape('シナリオの各年度（平均、移行費を含む）')}</text>"
    )
    parts.append("</svg>")
    return "".join(parts)
