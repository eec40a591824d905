"""The playground page in a real headless browser against a real `initlab playground` server.

Needs Debian's `chromium` and `chromium-driver` (`make test` installs them when run as root); without
them the tests are skipped and say how to install them. The screenshot goes to test-artifacts/.
"""

import math
from pathlib import Path

import pytest

from _initlab_browser import missing
from _initlab_playground import Page, chromium, playground_server, wait_for

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
LN2 = f"{math.log(2):.4f}"  # "0.6931": the cost of a network that outputs 0.5 everywhere

pytestmark = [pytest.mark.slow, pytest.mark.skipif(missing() is not None, reason=f"browser test skipped: {missing()}")]


@pytest.fixture(scope="module")
def url():
    with playground_server() as server:
        yield server.url


@pytest.fixture(scope="module")
def driver():
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(driver, url):
    """A fresh page (a new session); afterwards, no console error may have been logged, loading included."""
    driver.get_log("browser")  # reading empties it: what earlier pages logged is not this page's
    page = Page(driver, url)
    yield page
    assert page.errors() == []


def test_everything_the_page_loads_comes_from_its_own_server(page, url):
    loaded = page.script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert any(name.endswith("/static/app.js") for name in loaded), loaded
    assert [name for name in loaded if not name.startswith(url)] == []


def test_zeros_keep_the_cost_at_ln2_while_iterations_advance(page):
    page.select("init", "zeros")
    page.settled(init="zeros")
    page.play()
    seen = []
    for _ in range(4):  # four different iterations, each drawn with the cost of ln 2
        after = seen[-1][0] if seen else 0
        iteration = wait_for(lambda: page.iteration > after and page.iteration, what="iteration to advance")
        seen.append((iteration, page.text("cost")))
    page.pause()
    assert [cost for _, cost in seen] == [LN2] * 4, seen
    assert page.text("cost") == LN2
    assert seen[-1][0] > seen[0][0] > 0


def test_he_normal_after_reset_makes_the_cost_fall(page):
    page.select("init", "zeros")  # from zeros (he_normal is the default: choosing it again would change nothing)
    page.settled(init="zeros")
    page.select("speed", "100")
    page.select("init", "he_normal")
    page.settled(init="he_normal", speed=100)
    page.find("reset").click()
    wait_for(lambda: page.iteration == 0, what="iteration 0 after reset")
    start = float(page.text("cost"))
    page.play()
    wait_for(lambda: page.iteration >= 1500, timeout=60, what="1500 iterations")
    page.pause()
    # he_normal on the default circles network: about 0.72 at the start, about 0.5 by iteration 1000
    assert float(page.text("cost")) < start - 0.1, (start, page.text("cost"))
    assert page.text("cost") == f"{page.state['mean_cost']:.4f}"


def test_a_refused_spec_is_named_next_to_the_field_and_changes_nothing(page):
    before = page.state["settings"]["init"]
    field = page.type("init-spec", "normal(std=-1)\n")
    error = wait_for(lambda: page.find("error").is_displayed() and page.find("error"), what="the error message")
    assert error.text.startswith("init: "), error.text
    assert "std" in error.text and "-1" in error.text, error.text
    assert "\n" not in error.text
    # shown right under the field that was refused
    assert page.script("return arguments[0].previousElementSibling.contains(arguments[1])", error, field)
    assert page.state["settings"]["init"] == before
    page.select("init", "xavier_normal")  # a good setting clears it
    page.settled(init="xavier_normal")
    assert not page.find("error").is_displayed()


def test_a_setting_over_the_limits_is_refused_next_to_its_control_and_the_control_restored(page):
    assert "16 seeds" in page.text("limits")
    field = page.type("n_seeds", "17\t")  # leaving the field sends it
    error = wait_for(lambda: page.find("error").is_displayed() and page.find("error"), what="the error message")
    assert error.text == "n_seeds: expected at most 16, got 17"
    assert page.script("return arguments[0].previousElementSibling.contains(arguments[1])", error, field)
    assert page.state["settings"]["n_seeds"] == 5
    wait_for(lambda: field.get_attribute("value") == "5", timeout=2, what="the field back at 5")


def test_number_boxes_show_their_largest_values_whole(page):
    page.script("window.playground.socket.send(JSON.stringify({type: 'settings', settings: {hidden: [256]}}))")
    page.settled(hidden=[256])
    # room for the digits of the largest value, besides the padding and Chromium's spin buttons (~15 px)
    room = page.script("""
        const ctx = document.createElement('canvas').getContext('2d');
        return ['width-0', 'n_samples', 'n_seeds', 'seed'].map(id => {
          const input = document.querySelector(`[data-testid=${id}]`), style = getComputedStyle(input);
          ctx.font = style.font;
          const inner = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
          return [id, inner - 16 - ctx.measureText({'width-0': '256', n_samples: '2000', n_seeds: '16', seed: '9999'}[id]).width];
        });""")
    assert all(spare >= 0 for _, spare in room), room


def test_an_emptied_box_gets_the_value_in_force_back_and_its_stale_error_goes(page):
    field = page.type("n_seeds", "17\n")  # Enter: the field keeps focus, and what was typed
    error = wait_for(lambda: page.find("error").is_displayed() and page.find("error"), what="the error message")
    assert error.text == "n_seeds: expected at most 16, got 17" and field.get_attribute("value") == "17"
    page.type("n_seeds", "")
    field.send_keys("\n")  # emptied, Enter: nothing to send, the 5 in force is back and the error is gone
    wait_for(lambda: not page.find("error").is_displayed(), timeout=2, what="the stale error to go")
    assert field.get_attribute("value") == "5" and page.state["settings"]["n_seeds"] == 5
    spec = page.type("init-spec", "normal(std=-1)\n")
    wait_for(lambda: page.find("error").is_displayed(), what="the spec's error")
    page.type("init-spec", "")
    spec.send_keys("\n")
    wait_for(lambda: not page.find("error").is_displayed(), timeout=2, what="the spec's stale error to go")
    assert spec.get_attribute("value") == page.state["settings"]["init"] == "he_normal"


def test_the_init_select_offers_every_registry_scheme_and_a_slider_rewrites_the_spec(page):
    from initlab.init.registry import SCHEMES
    options = page.script("return [...document.querySelector('[data-testid=init]').options].map(o => o.value)")
    assert options == list(SCHEMES)
    page.select("init", "normal")
    page.settled(init="normal")
    # the std slider (logarithmic, 0.001..100) moved to 0.01, as a user's drag ends: input, then change
    page.script("""
        const slider = document.querySelector('[data-testid=init-std]');
        const scale = Math.log(0.01 / 0.001) / Math.log(100 / 0.001);
        slider.value = Math.round(scale * Number(slider.max));
        slider.dispatchEvent(new Event('input')); slider.dispatchEvent(new Event('change'));""")
    page.settled(init="normal(std=0.01)")
    assert page.find("init-spec").get_attribute("value") == "normal(std=0.01)"
    assert page.find("init").get_attribute("value") == "normal"


def test_scheme_parameters_say_what_they_mean(page):
    assert page.state["settings"]["init"] == "he_normal"
    assert page.text("init-a-label") == "a (negative slope of the leaky relu the scheme is for; 0: relu)"
    page.select("init", "truncated_normal")
    page.settled(init="truncated_normal")
    labels = page.script("return [...document.querySelectorAll('[data-testid=init-params] .param-name')].map(e => e.textContent)")
    assert labels == ["std (standard deviation before the cut; log scale)", "mean (mean of the weights)",
                      "a (lower cut-off)", "b (upper cut-off)"]


def test_compare_mode_shows_each_scheme_with_its_boundary_and_cost(page):
    page.select("init", "zeros")
    page.settled(init="zeros")
    page.find("compare-on").click()
    wait_for(lambda: len(page.state["schemes"]) == 2, what="two schemes")
    page.find("step").click()
    wait_for(lambda: page.iteration > 0, what="a step")
    schemes = page.state["schemes"]
    captions = page.script("return [...document.querySelectorAll('[data-testid=boundary] figcaption')].map(e => e.textContent)")
    assert len(captions) == 2
    for scheme, caption in zip(schemes, captions):
        assert caption.startswith(scheme["init"]) and f"seed {scheme['boundary']['seed']}" in caption, captions
    legend = page.script("return [...document.querySelectorAll('#legend .item')].map(e => e.textContent)")
    assert legend == [f"{s['init']}: train {s['mean_cost']:.4f} · test {s['mean_test_cost']:.4f}" for s in schemes]
    # each boundary canvas is drawn: shades of both classes, not one flat colour
    for k in range(2):
        colours = page.script("""
            const c = document.querySelector(`[data-testid=boundary-${arguments[0]}]`);
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            const seen = new Set(); for (let i = 0; i < d.length; i += 4 * 97) seen.add(d.slice(i, i + 3).join());
            return seen.size;""", k)
        assert colours > 10, (k, colours)


def test_every_lesson_starts_its_schemes_and_states_its_sources(page):
    for lesson in page.script("return window.playground.lessons"):
        page.find(f"lesson-{lesson['id']}").click()
        expected = [lesson["settings"]["init"], *lesson["settings"].get("compare", [])]
        wait_for(lambda: [s["init"] for s in page.state["schemes"]] == expected and page.state["playing"],
                 what=f"lesson {lesson['id']} playing")
        text = page.script("return document.querySelector('[data-testid=lesson]').textContent")
        assert lesson["title"] in text and "Sources:" in text
        page.pause()


def test_the_lesson_panel_says_modified_once_the_settings_leave_the_lesson_and_not_before(page):
    page.find("lesson-relu-depth").click()
    wait_for(lambda: [s["init"] for s in page.state["schemes"]] == ["xavier_normal", "he_normal"] and page.state["playing"],
             what="the lesson playing")
    page.pause()
    modified = page.find("lesson-modified")
    active = "return [...document.querySelectorAll('.lesson-button.active')].map(b => b.dataset.testid)"
    assert not modified.is_displayed() and page.script(active) == ["lesson-relu-depth"]
    page.select("speed", "5")  # the speed changes no number: still the lesson
    page.settled(speed=5)
    assert not modified.is_displayed()
    page.find("compare-add").click()  # a third scheme: no longer the lesson's run
    wait_for(lambda: len(page.state["schemes"]) == 3, what="three schemes")
    wait_for(modified.is_displayed, timeout=2, what="the lesson marked modified")
    assert modified.text.startswith("Modified from the lesson") and page.script(active) == []
    modified.find_element("css selector", "button").click()  # restart the lesson
    wait_for(lambda: len(page.state["schemes"]) == 2 and page.state["playing"], what="the lesson's two schemes again, playing")
    wait_for(lambda: not page.find("lesson-modified").is_displayed(), timeout=2, what="the mark gone")
    assert page.script(active) == ["lesson-relu-depth"]
    page.pause()


def test_a_layer_without_gradient_is_flagged_on_its_dl_dz_histogram(page):
    def flags(no_gradient):  # a planted state: the first hidden layer's no_gradient field as given, or absent
        return page.driver.execute_async_script("""
            const [flag, done] = arguments, p = window.playground, state = structuredClone(p.state);
            state.layers[0].forEach((layer, i) => { delete layer.no_gradient; if (i === 0 && flag !== null) layer.no_gradient = flag; });
            state.iteration += 1;
            p.socket.onmessage({data: JSON.stringify(state)});
            requestAnimationFrame(() => requestAnimationFrame(() => done(
              [...document.querySelectorAll('[data-testid=no-gradient]')].map(e =>
                e.hidden ? null : [e.textContent, getComputedStyle(e).color]))));""", no_gradient)
    layers = len(page.state["layers"][0])
    red = "rgb(180, 35, 24)"
    assert flags(True) == [["no gradient", red]] + [None] * (layers - 1)
    assert flags(3) == [["no gradient: 3 units", red]] + [None] * (layers - 1)
    assert flags(False) == flags(None) == [None] * layers


def test_without_a_command_copy_is_off_and_the_servers_note_says_why(page):
    def shown(**fields):  # a planted state with `fields`
        return page.driver.execute_async_script("""
            const [fields, done] = arguments, p = window.playground;
            p.socket.onmessage({data: JSON.stringify({...p.state, ...fields, iteration: p.state.iteration + 1})});
            requestAnimationFrame(() => requestAnimationFrame(() => done([
              document.querySelector('[data-testid=command]').textContent, document.querySelector('[data-testid=copy]').disabled,
              document.getElementById('command-note').textContent])));""", fields)
    note = "nothing trained yet: after a step or play, this is the command that gives the costs shown"
    assert shown(command=None, command_note=note) == ["", True, note]
    command = page.state["command"] or "initlab train --data circles"
    assert shown(command=command, command_note=None) == [command, False, ""]


def test_states_arriving_faster_than_frames_are_coalesced_into_one_drawing_of_the_latest(page):
    page.find("step").click()
    first = wait_for(lambda: page.iteration, what="a step")
    # 50 states in one task (faster than any screen): one frame draws, and it draws the last of them
    drawn = page.script("""
        const p = window.playground, state = p.state, before = p.drawn;
        for (let i = 1; i <= 50; i++) p.socket.onmessage({data: JSON.stringify({...state, iteration: state.iteration + i})});
        return before;""")
    wait_for(lambda: page.script("return window.playground.drawn") > drawn, what="a frame")
    after_two_more_frames = page.driver.execute_async_script(
        "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done(window.playground.drawn)));")
    assert after_two_more_frames == drawn + 1
    assert page.iteration == first + 50


def test_the_page_helpers_parse_and_write_specs_scale_sliders_and_format_numbers(page):
    results = page.driver.execute_async_script("""
        const done = arguments[0];
        import('/static/pure.js').then(m => {
          const log = m.sliderScale(0.001, 100), linear = m.sliderScale(-5, 5);
          done({
            parsed: [m.parseSpec('normal(std=10, mean=0)'), m.parseSpec('he_normal'), m.parseSpec('normal(std'),
                     m.parseSpec('normal(std)')],
            written: [m.formatSpec('normal', {std: 0.01, mean: 0}, {std: 1, mean: 0}),
                      m.formatSpec('he_normal', {a: 0.5, mode: 'fan_out'}, {a: 0}), m.formatSpec('normal', {std: 1}, {std: 1})],
            scales: [log.log, linear.log, log.fromPosition(log.toPosition(0.01)), log.fromPosition(0), log.fromPosition(1000),
                     linear.fromPosition(500)],
            costs: [m.formatCost(Math.log(2)), m.formatCost(null), m.formatCost(3e-6)],
            ticks: [m.logTicks(0.003, 0.7), m.linearTicks(0, 15000), m.tickLabel(15000), m.tickLabel(1e-5)],
          });
        });""")
    assert results["parsed"] == [{"name": "normal", "args": {"std": "10", "mean": "0"}}, {"name": "he_normal", "args": {}},
                                 None, None]
    assert results["written"] == ["normal(std=0.01)", "he_normal(a=0.5, mode=fan_out)", "normal"]
    assert results["scales"] == [True, False, 0.01, 0.001, 100, 0]
    assert results["costs"] == ["0.6931", "diverged", "3.000e-6"]
    assert results["ticks"] == [[0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5], [0, 5000, 10000, 15000], "1.5e4", "1e-5"]


def test_numbers_have_one_format_and_the_cost_range_fits_the_schemes_that_did_not_diverge(page):
    results = page.driver.execute_async_script("""
        const done = arguments[0];
        import('/static/pure.js').then(m => done({
          numbers: [1e6, -4e6, 760000, 2.3e6, 15000, 9999.7, 1000, 250, 0.6931, 0.001, 0.00099996, 1e-5, 0, -0.5, 9e301]
            .map(m.formatNumber),
          ticks: [1e-5, 1e-4, 0.001, 0.01, 1, 100, 1e4, 1e6, 1e98, 1e200, 1e251].map(m.tickLabel),
          costs: [m.formatCost(9e301), m.formatCost(12345.678), m.formatCost(9999)],
          specs: [m.formatSpec('normal', {std: 0.0005}, {std: 1}), m.formatSpec('normal', {std: 123456}, {std: 1})],
          range: m.costRange([0.2, 0.7, 0.5]), capped: m.costRange([0.2, 9e301]), empty: m.costRange([null, -1]),
          diverged: [m.divergedLabel([null, 120, 80]), m.divergedLabel([40, 30]), m.divergedLabel([null, null])],
        }));""")
    assert results["numbers"] == ["1e6", "-4e6", "7.6e5", "2.3e6", "1.5e4", "1e4", "1000", "250", "0.693", "0.001", "0.001",
                                  "1e-5", "0", "-0.5", "9e301"]
    assert results["ticks"] == ["1e-5", "1e-4", "0.001", "0.01", "1", "100", "1e4", "1e6", "1e98", "1e200", "1e251"]
    assert results["costs"] == ["9.000e301", "1.235e4", "9999.0000"]
    assert results["specs"] == ["normal(std=0.0005)", "normal(std=123456)"]  # specs keep their digits
    lo, hi = results["range"]  # 0.2/1.3 .. 0.7*1.3, widened to one decade around its middle
    assert hi / lo == pytest.approx(10) and lo * hi == pytest.approx(0.2 * 0.7) and lo < 0.2 and hi > 0.7
    assert results["capped"] == [pytest.approx(0.2 / 1.3), 1e6]
    assert results["empty"] == [pytest.approx(0.01 / 1.3), pytest.approx(1.3)]
    assert results["diverged"] == ["2 of 3 seeds diverged from iteration 80", "diverged at iteration 30", None]


def test_a_diverged_scheme_leaves_the_cost_chart_labelled_and_the_others_keep_their_range(page):
    page.find("step").click()
    wait_for(lambda: page.iteration, what="a step")
    # a planted state: scheme 0 healthy (0.2..0.7), scheme 1 with a seed that reached 9e301 before diverging
    axis = page.driver.execute_async_script("""
        const done = arguments[0], p = window.playground, state = p.state;
        const healthy = {mean: [0.7, 0.4, 0.2], low: [0.6, 0.3, 0.2], high: [0.7, 0.5, 0.25]};
        const exploding = {mean: [5, 1e150, 9e301], low: [4, 1e100, 9e301], high: [6, 1e200, 9e301]};
        const schemes = [{...state.schemes[0], diverged_at: state.schemes[0].diverged_at.map(() => null)},
                         {...state.schemes[0], init: "normal(std=10)", mean_cost: null,
                          diverged_at: state.schemes[0].diverged_at.map(() => 300)}];
        const history = {iterations: [0, 100, 200], schemes: [healthy, exploding]};
        p.socket.onmessage({data: JSON.stringify({...state, schemes, history, test_history: history,
                                                  layers: [state.layers[0], null]})});
        requestAnimationFrame(() => requestAnimationFrame(() => done(p.costAxis)));""")
    lo, hi = axis["range"]
    assert lo < 0.2 and 0.7 < hi < 10, axis
    assert axis["labels"] == [None, "diverged at iteration 300"]
    assert axis["ticks"] == ["0.2", "0.5", "1"]


def test_a_long_step_shows_it_is_busy_offers_pause_and_ends_at_its_iteration(page):
    # one seed of [128, 128] on 600 points, 1000 iterations a step: some seconds on this machine
    page.script("window.playground.socket.send(JSON.stringify({type: 'settings', settings: "
                "{hidden: [128, 128], n_samples: 600, n_seeds: 1, speed: 1000}}))")
    page.settled(hidden=[128, 128], n_seeds=1, speed=1000)
    page.find("step").click()
    busy = page.script("""const b = document.querySelector('[data-testid=step]');
        return [b.textContent, b.disabled, b.getAttribute('aria-busy'), document.querySelector('[data-testid=start]').textContent,
                document.querySelector('[data-testid=status]').textContent]""")
    assert busy == ["Stepping…", True, "true", "Pause", "stepping to iteration 1000…"], busy
    page.find("step").click()  # refused while busy: no second step is queued
    wait_for(lambda: page.text("step") == "Step", timeout=60, what="the step to end")
    assert page.iteration == 1000 and page.text("start") == "Play" and page.text("status") == "live"
    assert page.find("step").is_enabled()


def test_pause_during_a_step_ends_the_busy_sign(page):
    # one seed of [256, 256] on 1000 points: 500 iterations take about 10 s here
    page.script("window.playground.socket.send(JSON.stringify({type: 'settings', settings: "
                "{hidden: [256, 256], n_samples: 1000, n_seeds: 1, speed: 500}}))")
    page.settled(hidden=[256, 256], n_seeds=1, speed=500)
    page.find("step").click()
    assert page.text("start") == "Pause"
    # a server that runs the step in the background sends states while it runs: the iteration moves
    progress = wait_for(lambda: page.iteration > 0 or page.text("step") == "Step", timeout=60, what="progress")
    progressed = page.text("step") != "Step" and page.iteration < 500
    if page.text("start") == "Pause":  # (a server running the step in the foreground answers only at its end)
        page.find("start").click()  # stops the step after the chunk under way
    wait_for(lambda: page.text("step") == "Step", timeout=60, what="the busy sign to end")
    assert 0 < page.iteration <= 500 and not page.state["playing"] and page.text("start") == "Play", progress
    if progressed:  # then Pause took effect during the step, well before its end
        assert page.iteration < 400, page.iteration


def test_at_1024_by_768_a_lesson_shows_its_text_the_cost_and_the_boundaries_next_to_the_controls(url):
    with chromium(1024, 768) as small:
        page = Page(small, url)
        small.execute_script("window.scrollTo(0, 400)")  # wherever the user was, the lesson comes into sight
        page.find("lesson-relu-depth").click()
        wait_for(lambda: page.iteration >= 100, what="the lesson training")
        page.pause()
        boxes = page.script("""
            const box = s => { const r = document.querySelector(s).getBoundingClientRect();
                               return [r.left, r.top, r.right, r.bottom]; };
            return {view: [window.innerWidth, window.innerHeight], controls: box('.controls'), lesson: box('[data-testid=lesson]'),
                    watch: box('.lesson .watch'), cost: box('[data-testid=cost-chart]'),
                    boundaries: [0, 1].map(k => box(`[data-testid=boundary-${k}]`))}""")
        small.save_screenshot(str(ARTIFACTS / "playground-1024x768.png"))
        width, height = boxes["view"]
        assert width == 1024 and height > 600, boxes  # Chromium's own bars take the rest
        for name in ["lesson", "watch", "cost", "boundaries"]:
            for left, top, right, bottom in boxes[name] if name == "boundaries" else [boxes[name]]:
                assert 0 <= top and bottom <= height and right <= width, (name, boxes)  # in sight, not below the controls
                assert left >= boxes["controls"][2], (name, boxes)  # next to the controls column
        assert page.errors() == []


def test_screenshot_of_a_lesson(page):
    page.find("lesson-large").click()
    wait_for(lambda: page.iteration >= 2000, timeout=60, what="2000 iterations")
    page.pause()
    path = page.screenshot(ARTIFACTS / "playground.png")
    print(f"screenshot: {path}")
    assert path.stat().st_size > 50_000
