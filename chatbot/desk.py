"""The long-lived parts of the service, built once at the edge (CLI, app.py) and passed to
the pipeline: settings, the store's session factory, the generator, the retriever, the
risk scorer and the retention policy."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from chatbot.llm.generation import Generator
from chatbot.offers.policy import Policy
from chatbot.risk.scoring import RiskScorer
from shopcore.settings import Settings
from knowledge.retrieval import Retriever


@dataclass
class Desk:
    settings: Settings
    sessions: sessionmaker[Session]
    generator: Generator
    retriever: Retriever
    risk: RiskScorer
    policy: Policy
    # The model without the shop's adapter (chatbot/llm/generation.py build_base_generator):
    # rewrites questions and answers other languages. None: `generator` is the base model.
    base_generator: Generator | None = None
    # The index generation the retriever serves (knowledge/index.py CURRENT); the index watch
    # (chatbot/index_watch.py) loads a newer one that another process built.
    index_generation: str | None = None
    # CHATBOT_TRANSLATION_MODEL (build_translator): reads and writes the shop's other languages.
    # None: the plain generator does.
    translator: Generator | None = None

    @property
    def plain_generator(self) -> Generator:
        """The generator to use where the shop's adapter does not help (rewrites, other languages)."""
        return self.base_generator or self.generator

    @property
    def translating_generator(self) -> Generator:
        """The generator that translates questions and answers (and rewrites follow-ups)."""
        return self.translator or self.plain_generator

    def refresh_index(self) -> None:
        """Bring the index up to date with the store's catalog (after a sync) and serve it.

        Incremental: only changed product documents are embedded; turns in flight keep the
        retriever they started with."""
        from knowledge.build import build_index

        build_index(self.settings.docs_dirs, self.settings.index_dir, self.retriever.embedder, self.sessions,
                    exact_max=self.settings.exact_index_max_chunks)
        self.load_index()

    def load_index(self) -> None:
        """Serve the index folder's live generation (built here or by another process)."""
        from chatbot.index_watch import live_generation
        from knowledge.index import Index

        generation = live_generation(self.settings.index_dir)  # read first: a newer one loads again later
        self.retriever = Retriever(Index.load(self.settings.index_dir, device=self.retriever.index.device),
                                   self.retriever.embedder, self.retriever.language)
        self.index_generation = generation

    def close(self) -> None:
        """Stop the generators' worker threads."""
        for generator in (self.generator, self.base_generator, self.translator):
            getattr(generator, "close", lambda: None)()


def build_desk(settings: Settings) -> Desk:
    """Connect to the store, load the index and the model (slow parts first to fail fast)."""
    from chatbot.index_watch import live_generation
    from chatbot.llm.generation import build_base_generator, build_generator, build_translator
    from chatbot.language import warm_up
    from chatbot.llm.loading import pick_device
    from chatbot.offers.policy import load_policy
    from shopcore.store.db import check_schema, make_engine, session_factory
    from knowledge.embed import Embedder
    from knowledge.index import Index

    policy = load_policy(settings.offer_policy)  # a broken policy file fails before anything loads
    engine = make_engine(settings.database_url, settings.database_timeout_s)
    check_schema(engine)  # so does a database left behind by an upgrade
    device = pick_device(settings.device).type
    generation = live_generation(settings.index_dir)
    index = Index.load(settings.index_dir, device=device)
    embedder = Embedder(settings.embedding_model, device=device)
    retriever = Retriever(index, embedder, settings.shop_languages[0])
    warm_up()  # the language detector's models: the first shopper should not wait for them
    generator = build_generator(settings)
    base_generator = build_base_generator(settings, generator)
    # The risk judge reads the base model: the one beside an adapter, or the served one without.
    plain = base_generator or (generator if generator.adapter_version is None else None)
    risk = RiskScorer.build(settings, embedder, loaded=getattr(plain, "loaded", None))
    sessions = session_factory(engine)
    return Desk(settings, sessions, generator, retriever, risk, policy, base_generator, generation,
                build_translator(settings))
