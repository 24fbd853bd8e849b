from cases.services import verify_chain


def test_case_walks_to_cleared_with_an_intact_chain(case_at):
    case = case_at("cleared")
    assert case.status == "cleared"
    assert case.clearance_statements.get().status == "issued"
    assert verify_chain(case) is None
