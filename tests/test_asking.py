"""Where a question asks (kb.asking): the clause that asks, not the story told before it."""

import pytest

from kb.asking import asked_parts, asks


@pytest.mark.parametrize("clause", ["能替他去拿吗？", "怎么补", "要交多少钱", "材料能不能先交", "居住证几天审完",
                                    "有没有专门的地方", "是否需要本人到场"])
def test_a_clause_asks_by_its_mark_its_question_word_or_an_a_not_a_pair(clause):
    assert asks(clause)


@pytest.mark.parametrize("clause", ["我爷爷瘫在床上好几年了", "在这边打工十几年了", "社保卡丢了", "买房落户"])
def test_a_clause_that_tells_does_not_ask(clause):
    assert not asks(clause)


def test_the_question_proper_starts_at_the_first_clause_that_asks_and_widens_to_the_whole():
    parts = asked_parts("我爷爷瘫在床上好几年了，社保卡我能替他去拿吗？要带什么？")
    assert parts[0] == "社保卡我能替他去拿吗?要带什么?"
    assert parts[-1] == "我爷爷瘫在床上好几年了,社保卡我能替他去拿吗?要带什么?"
    assert len(parts) == 2


def test_a_question_without_an_asking_clause_is_asked_whole():
    assert asked_parts("买房落户") == ["买房落户"]
    assert asked_parts("社保卡丢了，补办") == ["社保卡丢了,补办"]


def test_a_bare_tag_question_widens_to_the_clause_before_it():
    parts = asked_parts("想把爸妈的户口迁来，行不行？")
    assert parts == ["行不行?", "想把爸妈的户口迁来,行不行?"]
