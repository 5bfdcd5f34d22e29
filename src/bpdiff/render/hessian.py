"""`--hessian` and `--hvp` as text, rich tables and JSON: rows and columns named by input.
"""

from bpdiff.numbers import format_number, json_number
from bpdiff.render.table import plain_rows, summary


def _out(result):
    return result.graph.name_of.get(result.graph.output, "out")


def _title(result):
    return f"Hessian of {_out(result)}: ∂²{_out(result)}/∂row ∂column"


def _hvp_title(result):
    return f"Hessian-vector product H·v (H the Hessian of {_out(result)})"


def hessian_rows(hessian, precision):
    """One row per input: its name, then ∂²out/∂row∂column for each column."""
    return [(name, *(format_number(x, precision) for x in row))
            for name, row in zip(hessian.wrt, hessian.matrix)]


HVP_COLUMNS = ("input", "v", "H·v")


def hvp_rows(product, precision):
    """One row per input: its name, v's component and (H·v)'s."""
    return [(name, format_number(v, precision), format_number(hv, precision))
            for name, v, hv in zip(product.wrt, product.vector, product.product)]


def plain(result, curvature, precision):
    """The summary line, then the Hessian and/or H·v as aligned text."""
    hessian, product = curvature
    text = summary(result, precision) + "\n"
    if hessian is not None:
        text += f"\n{_title(result)}:\n"
        text += (plain_rows(("", *hessian.wrt), hessian_rows(hessian, precision),
                            set(hessian.wrt)) if hessian.wrt else "(no inputs)\n")
    if product is not None:
        text += f"\n{_hvp_title(result)}:\n"
        text += (plain_rows(HVP_COLUMNS, hvp_rows(product, precision), {"v", "H·v"})
                 if product.wrt else "(no inputs)\n")
    return text


def rich(result, curvature, precision):
    """The same as rich renderables."""
    hessian, product = curvature
    from rich.table import Table
    from rich.text import Text

    shown = [Text(summary(result, precision))]
    if hessian is not None:
        table = Table(header_style="bold")
        table.add_column("", style="bold")
        for name in hessian.wrt:
            table.add_column(name, justify="right")
        for row in hessian_rows(hessian, precision):
            table.add_row(*row)
        shown += [Text(f"{_title(result)}:", style="bold"), table]
    if product is not None:
        table = Table(header_style="bold")
        for column in HVP_COLUMNS:
            table.add_column(column, justify="left" if column == "input" else "right")
        for row in hvp_rows(product, precision):
            table.add_row(*row)
        shown += [Text(f"{_hvp_title(result)}:", style="bold"), table]
    return shown


def to_json(curvature):
    """The "hessian" and "hvp" sections of the JSON result (those asked for)."""
    hessian, product = curvature
    sections = {}
    if hessian is not None:
        sections["hessian"] = {"wrt": list(hessian.wrt),
                               "matrix": [[json_number(x) for x in row]
                                          for row in hessian.matrix]}
    if product is not None:
        sections["hvp"] = {"wrt": list(product.wrt),
                           "vector": [json_number(x) for x in product.vector],
                           "product": [json_number(x) for x in product.product]}
    return sections
