"""The seeded world: two accounts, their My Drives and a shared drive, deterministic per seed.

Maria Lopez (the first account) has a restaurant's Drive: "Kitchen/Recipes" with "Mains",
"Desserts", "Sauces/Base sauces"; "Accounting/Invoices" with one folder per month of
supplier invoices; unrelated folders ("Staff", "Marketing") and loose files; a trashed file
and a trashed folder. Both accounts belong to the shared drive "Acme Bistro — Shared". Size
knobs add thousands of folders under "Kitchen/Recipes/Archive" for benchmarks.

Only metadata and `ContentSpec`s are built here; bytes are generated on download.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from . import ids
from .content import ContentSpec
from .model import DOCUMENT, FOLDER, PRESENTATION, SPREADSHEET, Account, Node, SharedDrive

# Seeded timestamps sit before this instant; run-time changes use the (later) real clock.
EPOCH = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
ARCHIVE_FANOUT = 20

MIME_BY_KIND = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "text": "text/plain",
    "doc": DOCUMENT,
    "sheet": SPREADSHEET,
    "slides": PRESENTATION,
}
# Recipe folders rotate through these, so every folder mixes PDFs, Docs and photos.
RECIPE_KINDS = ("pdf", "doc", "jpeg", "pdf", "png", "doc")

MAINS = (
    "Braised Short Ribs",
    "Chicken Piccata",
    "Seared Salmon with Dill",
    "Mushroom Risotto",
    "Steak Frites",
    "Roast Chicken",
    "Lamb Tagine",
    "Shrimp Scampi",
    "Eggplant Parmesan",
    "Pork Belly Bao",
)
DESSERTS = (
    "Tiramisu",
    "Crème Brûlée",
    "Chocolate Lava Cake",
    "Lemon Tart",
    "Panna Cotta",
    "Apple Crumble",
    "Churros",
    "Pavlova",
)
SAUCES = ("Chimichurri", "Salsa Verde", "Romesco", "Beurre Blanc", "Peppercorn Sauce", "Pesto")
BASE_SAUCES = ("Béchamel", "Velouté", "Espagnole", "Hollandaise", "Tomato Sauce", "Demi-glace")
COCKTAILS = ("Negroni", "Old Fashioned", "Paloma", "Espresso Martini", "Aperol Spritz")
SHARED_RECIPES = ("Focaccia", "Staff Meal Curry", "Pickled Shallots", "House Vinaigrette")
INGREDIENTS = (
    "olive oil",
    "unsalted butter",
    "shallots",
    "garlic",
    "thyme",
    "heavy cream",
    "egg yolks",
    "flour",
    "caster sugar",
    "lemon zest",
    "white wine",
    "chicken stock",
    "parmesan",
    "flat-leaf parsley",
    "sea salt",
    "black pepper",
)
SUPPLIERS = (
    ("Harbor Fresh Seafood", ("Atlantic salmon fillet", "Tiger prawns", "Mussels")),
    ("Green Valley Produce", ("Heirloom tomatoes", "Shallots", "Flat-leaf parsley")),
    ("Golden Crust Bakery", ("Sourdough loaves", "Brioche buns", "Focaccia trays")),
    ("Alpine Dairy Co.", ("Unsalted butter", "Heavy cream", "Parmigiano Reggiano")),
    ("Riverside Meats", ("Beef short ribs", "Pork belly", "Free-range chicken")),
    ("Coastal Linen Service", ("Napkin service", "Chef jackets laundering", "Aprons")),
    ("Old Town Wine Merchants", ("House red (case)", "Prosecco (case)", "Dry vermouth")),
)


@dataclass
class World:
    accounts: list[Account]
    drives: list[SharedDrive]
    nodes: list[Node] = field(default_factory=list)
    change_seq: int = 0  # the change feed's starting position, so tokens look lived-in


@dataclass(frozen=True)
class DataConfig:
    files_per_folder: int = 4
    invoice_months: int = 6
    extra_folders: int = 0


class _Builder:
    def __init__(self, seed: int, config: DataConfig) -> None:
        self.rng = random.Random(f"google-sandbox:{seed}")
        self.config = config
        self.nodes: list[Node] = []

    def when(self, *, max_days: int = 600, min_days: int = 0) -> datetime:
        seconds = self.rng.randrange(min_days * 86400, max_days * 86400 + 1)
        return (EPOCH - timedelta(seconds=seconds)).replace(
            microsecond=self.rng.randrange(1000) * 1000
        )

    def add(
        self,
        name: str,
        mime_type: str,
        parent: Node,
        *,
        content: ContentSpec | None = None,
        created: datetime | None = None,
    ) -> Node:
        created = created or self.when()
        edits = self.rng.randrange(0, 5)
        modified = created + timedelta(hours=self.rng.randrange(0, 48)) if edits else created
        node = Node(
            id=ids.file_id(self.rng, editor=mime_type in (DOCUMENT, SPREADSHEET, PRESENTATION)),
            name=name,
            mime_type=mime_type,
            parent=parent.id,
            drive_id=parent.drive_id,
            owner=parent.owner,
            created=created,
            modified=min(modified, EPOCH),
            version=self.rng.randrange(2, 12) + edits * 3,
            seq=len(self.nodes),
            content=content,
            starred=self.rng.random() < 0.08,
            last_modifier=parent.owner or parent.last_modifier,
        )
        self.nodes.append(node)
        return node

    def folder(self, name: str, parent: Node) -> Node:
        return self.add(name, FOLDER, parent)

    def root(self, node_id: str, name: str, owner: str | None, drive_id: str | None) -> Node:
        node = Node(
            id=node_id,
            name=name,
            mime_type=FOLDER,
            parent=None,
            drive_id=drive_id,
            owner=owner,
            created=EPOCH - timedelta(days=900),
            modified=EPOCH - timedelta(days=900),
            version=1,
            seq=len(self.nodes),
            last_modifier=owner,
        )
        self.nodes.append(node)
        return node

    def file(self, kind: str, title: str, parent: Node, lines: tuple[str, ...], **kw) -> Node:
        extension = {"pdf": ".pdf", "png": ".png", "jpeg": ".jpg", "text": ".txt"}.get(kind, "")
        spec = ContentSpec(
            kind="pdf" if kind in ("doc", "sheet", "slides") else kind,
            title=title,
            lines=lines,
            seed=self.rng.getrandbits(32),
        )
        return self.add(title + extension, MIME_BY_KIND[kind], parent, content=spec, **kw)

    # --- content ---------------------------------------------------------------------------

    def recipe_lines(self, name: str) -> tuple[str, ...]:
        picks = self.rng.sample(INGREDIENTS, 5)
        lines = [f"Serves {self.rng.choice((2, 4, 6, 8))}", "", "Ingredients"]
        lines += [f"- {self.rng.randrange(1, 9) * 25} g {item}" for item in picks]
        lines += ["", "Method"]
        lines += [
            f"{step}. {verb} the {item}."
            for step, (verb, item) in enumerate(
                zip(
                    self.rng.sample(("Prepare", "Sweat", "Reduce", "Fold in", "Season"), 3),
                    picks,
                    strict=False,
                ),
                start=1,
            )
        ]
        return (f"Recipe: {name}", *lines)

    def recipes(self, parent: Node, names: tuple[str, ...], count: int, offset: int = 0) -> None:
        for i in range(count):
            base = names[(i + offset) % len(names)]
            round_ = (i + offset) // len(names)
            name = base if round_ == 0 else f"{base} ({round_ + 1})"
            kind = RECIPE_KINDS[(i + offset) % len(RECIPE_KINDS)]
            title = {"jpeg": f"{name} — plated", "png": f"{name} card"}.get(kind, name)
            self.file(kind, title, parent, self.recipe_lines(name))

    def invoices(self, parent: Node, year: int, month: int, count: int) -> None:
        for i in range(count):
            supplier, items = SUPPLIERS[self.rng.randrange(len(SUPPLIERS))]
            day = self.rng.randrange(1, 29)
            number = self.rng.randrange(10000, 99999)
            issued = datetime(year, month, day, 10, 30, tzinfo=UTC)
            lines, total = [f"Invoice INV-{number}", f"Date: {issued:%Y-%m-%d}", ""], 0
            lines.append("Bill to: Acme Bistro, 12 Harbour Street")
            for item in items:
                qty, price = self.rng.randrange(1, 20), self.rng.randrange(300, 9000)
                total += qty * price
                lines.append(f"{qty} x {item} @ ${price / 100:.2f} = ${qty * price / 100:.2f}")
            lines += ["", f"Total due: ${total / 100:,.2f}", "Payment terms: 30 days"]
            # Every fourth document is a phone photo of a paper receipt.
            kind = "jpeg" if i % 4 == 3 else "pdf"
            stem = "Receipt" if kind == "jpeg" else f"INV-{number}"
            title = f"{stem} {supplier} {issued:%Y-%m-%d}"
            self.file(kind, title, parent, (supplier, *lines), created=issued)

    def misc(self, kind: str, title: str, parent: Node, *lines: str) -> Node:
        return self.file(kind, title, parent, lines or (title,))


def _months(count: int) -> Iterator[tuple[int, int]]:
    year, month = EPOCH.year, EPOCH.month
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        yield year, month


def _account(b: _Builder, given: str, family: str, email: str) -> Account:
    return Account(
        sub=ids.digits(b.rng, 21),
        email=email,
        name=f"{given} {family}",
        given_name=given,
        family_name=family,
        picture=f"https://lh3.googleusercontent.com/a/{ids.urlsafe(b.rng, 40)}=s96-c",
        permission_id=ids.digits(b.rng, 20),
        root_id=ids.root_id(b.rng),
        hosted_domain=email.split("@", 1)[1],
    )


def build_world(seed: int, config: DataConfig) -> World:
    b = _Builder(seed, config)
    per = max(config.files_per_folder, 0)
    maria = _account(b, "Maria", "Lopez", "maria@acmebistro.example")
    sam = _account(b, "Sam", "Okafor", "sam@acmebistro.example")
    drive = SharedDrive(
        id=ids.root_id(b.rng),
        name="Acme Bistro — Shared",
        created=EPOCH - timedelta(days=700),
        members={maria.sub, sam.sub},
    )

    # Maria's My Drive.
    root = b.root(maria.root_id, "My Drive", maria.sub, None)
    kitchen = b.folder("Kitchen", root)
    recipes = b.folder("Recipes", kitchen)
    b.misc(
        "sheet",
        "Recipe index",
        recipes,
        "Recipe,Section,Cost per portion",
        "Tiramisu,Desserts,2.10",
    )
    b.misc("pdf", "House Bread", recipes, *b.recipe_lines("House Bread"))
    b.recipes(b.folder("Mains", recipes), MAINS, per)
    b.recipes(b.folder("Desserts", recipes), DESSERTS, per)
    sauces = b.folder("Sauces", recipes)
    b.recipes(sauces, SAUCES, per)
    b.recipes(b.folder("Base sauces", sauces), BASE_SAUCES, per)
    prep = b.folder("Prep lists", kitchen)
    b.misc("doc", "Monday prep list", prep, "Stocks", "Sauces", "Desserts")
    b.misc("sheet", "Kitchen inventory", kitchen, "Item,Quantity,Unit", "Flour,25,kg")

    accounting = b.folder("Accounting", root)
    invoices = b.folder("Invoices", accounting)
    for year, month in _months(config.invoice_months):
        b.invoices(b.folder(f"{year}-{month:02d}", invoices), year, month, per)
    b.misc("sheet", "Budget 2026", accounting, "Month,Food cost,Labour", "January,18200,24100")

    staff = b.folder("Staff", root)
    b.misc("sheet", "Rota — week 12", staff, "Name,Mon,Tue,Wed", "Maria,open,open,off")
    b.misc("doc", "Onboarding checklist", staff, "Food hygiene certificate", "Uniform")
    marketing = b.folder("Marketing", root)
    b.misc("png", "Logo", marketing)
    b.misc("slides", "Spring menu launch", marketing, "Spring menu", "Launch on 21 March")
    photos = b.folder("Instagram photos", marketing)
    for dish in ("Tiramisu", "Steak Frites", "Negroni"):
        b.misc("jpeg", f"{dish} for Instagram", photos)
    b.misc("pdf", "Menu — Spring 2026", root, "Starters", "Mains", "Desserts")
    b.misc("text", "Notes", root, "Call the fish supplier about Friday's delivery.")
    old_menu = b.misc("pdf", "Old menu 2024", root, "Winter menu 2024")
    old_menu.explicitly_trashed, old_menu.trashed_time = True, EPOCH - timedelta(days=20)
    old_recipes = b.folder("Old recipes", root)
    b.misc("doc", "Discontinued specials", old_recipes, "Beef Wellington", "Lobster Thermidor")
    old_recipes.explicitly_trashed, old_recipes.trashed_time = True, EPOCH - timedelta(days=10)

    if config.extra_folders > 0:
        archive = b.folder("Archive", recipes)
        batches: list[Node] = []
        for i in range(config.extra_folders):
            parent = (
                archive if i < ARCHIVE_FANOUT else batches[(i - ARCHIVE_FANOUT) // ARCHIVE_FANOUT]
            )
            batch = b.folder(f"Batch {i + 1:04d}", parent)
            batches.append(batch)
            b.recipes(batch, MAINS + DESSERTS, per, offset=i)

    # The shared drive (members: both accounts).
    shared_root = b.root(drive.id, drive.name, None, drive.id)
    shared_recipes = b.folder("Recipes (shared)", shared_root)
    b.recipes(shared_recipes, SHARED_RECIPES, per)
    contracts = b.folder("Supplier contracts", shared_root)
    for supplier, _ in SUPPLIERS[:3]:
        b.misc("pdf", f"Contract — {supplier}", contracts, f"Supply agreement with {supplier}")
    b.misc("pdf", "Health & safety", shared_root, "Fire exits", "Allergen matrix")

    # Sam's My Drive.
    sam_root = b.root(sam.root_id, "My Drive", sam.sub, None)
    bar = b.folder("Bar", sam_root)
    b.recipes(b.folder("Cocktails", bar), COCKTAILS, per)
    b.misc("pdf", "Wine list", bar, "Reds", "Whites", "Sparkling")

    return World([maria, sam], [drive], b.nodes, change_seq=b.rng.randrange(4000, 9000))
