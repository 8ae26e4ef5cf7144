"""Variables, placeholders and composition tags, as the Langfuse SDK and server treat them."""

from __future__ import annotations

from twosigma.prompts.templates import (
    DependencyTag,
    compile_chat,
    compile_text,
    content_variable_names,
    dependency_tags,
    replace_tags,
)


class TestCompileText:
    def test_known_variables_are_substituted(self) -> None:
        assert compile_text("Hi {{name}}, {{ age }}!", {"name": "Ada", "age": 36}) == "Hi Ada, 36!"

    def test_unknown_variables_are_left_as_written(self) -> None:
        assert compile_text("Hi {{name}} {{other}}", {"name": "Ada"}) == "Hi Ada {{other}}"

    def test_none_becomes_empty_text(self) -> None:
        assert compile_text("[{{x}}]", {"x": None}) == "[]"

    def test_unclosed_braces_are_kept(self) -> None:
        assert compile_text("a {{b", {"b": "x"}) == "a {{b"

    def test_variable_names_are_listed_once_in_order(self) -> None:
        assert content_variable_names("{{b}} {{a}} {{ b }}") == ["b", "a"]


class TestCompileChat:
    def test_placeholders_are_filled_with_message_lists(self) -> None:
        messages = [
            {"role": "system", "content": "You tutor {{subject}}."},
            {"type": "placeholder", "name": "history"},
        ]
        out = compile_chat(messages, {"subject": "maths"}, {"history": [{"role": "user", "content": "hi {{subject}}"}]})
        assert out == [
            {"role": "system", "content": "You tutor maths."},
            {"role": "user", "content": "hi maths"},
        ]

    def test_unfilled_placeholder_stays_in_place(self) -> None:
        messages = [{"type": "placeholder", "name": "history"}]
        assert compile_chat(messages, {}, {}) == [{"type": "placeholder", "name": "history"}]


class TestDependencyTags:
    def test_version_and_label_tags_are_parsed(self) -> None:
        tags = dependency_tags("a @@@langfusePrompt:name=base|version=2@@@ b @@@langfusePrompt:name=x/y|label=prod@@@")
        assert list(tags) == [DependencyTag("base", version=2), DependencyTag("x/y", label="prod")]

    def test_malformed_tags_are_ignored(self) -> None:
        text = (
            "@@@langfusePrompt:version=1|name=a@@@ @@@langfusePrompt:name=a@@@ "
            "@@@langfusePrompt:name=a|version=x@@@ @@@langfusePrompt:name=a|label=Bad Label@@@ "
            "@@@langfusePrompt:name=a|version=1|label=b@@@ @@@langfusePrompt:name=|version=1@@@"
        )
        assert dependency_tags(text) == {}

    def test_tags_in_chat_content_are_found(self) -> None:
        messages = [{"role": "system", "content": "@@@langfusePrompt:name=base|label=production@@@"}]
        assert list(dependency_tags(messages)) == [DependencyTag("base", label="production")]

    def test_replacing_a_tag_replaces_every_occurrence(self) -> None:
        raw = "@@@langfusePrompt:name=a|version=1@@@"
        assert replace_tags(f"{raw} and {raw}", [raw], "X") == "X and X"
