// Tests of the pure C++ helpers (no TensorRT): run by ctest and tests/unit/test_cpp.py.
#include "trtlab/imgutil.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

namespace
{

int gFailures = 0;
int gChecks = 0;

void check(bool ok, char const* what, int line)
{
    ++gChecks;
    if (!ok)
    {
        ++gFailures;
        std::cerr << "FAIL line " << line << ": " << what << "\n";
    }
}

#define CHECK(cond) check((cond), #cond, __LINE__)

bool throws(std::function<void()> const& fn, std::string const& fragment)
{
    try
    {
        fn();
    }
    catch (trtlab::img::ImageError const& e)
    {
        bool const ok = std::string(e.what()).find(fragment) != std::string::npos;
        if (!ok)
        {
            std::cerr << "  message was: " << e.what() << "\n";
        }
        return ok;
    }
    return false;
}

std::string tmpFile(std::string const& name)
{
    return (std::filesystem::temp_directory_path() / ("trtlab_imgutil_" + name)).string();
}

void writeRaw(std::string const& path, std::string const& bytes)
{
    std::ofstream out(path, std::ios::binary);
    out << bytes;
}

void testPnmRoundTrip()
{
    using trtlab::img::Image;
    Image rgb(3, 2, 3);
    for (std::size_t i = 0; i < rgb.pixels.size(); ++i)
    {
        rgb.pixels[i] = static_cast<std::uint8_t>(i * 13);
    }
    std::string const ppm = tmpFile("rt.ppm");
    trtlab::img::writePnm(ppm, rgb);
    Image const back = trtlab::img::readPnm(ppm);
    CHECK(back.width == 3 && back.height == 2 && back.channels == 3);
    CHECK(back.pixels == rgb.pixels);
    CHECK(back.at(1, 2, 2) == rgb.pixels[17]);
    CHECK(!std::filesystem::exists(ppm + ".tmp"));

    Image gray(4, 1, 1);
    gray.pixels = {0, 1, 2, 255};
    std::string const pgm = tmpFile("rt.pgm");
    trtlab::img::writePnm(pgm, gray);
    CHECK(trtlab::img::readPnm(pgm).pixels == gray.pixels);
    std::remove(ppm.c_str());
    std::remove(pgm.c_str());
}

void testPnmHeaderComments()
{
    std::string const path = tmpFile("comment.pgm");
    writeRaw(path, std::string("P5\n# made by hand\n2 1 # width height\n255\n") + "\x07\x09");
    auto const img = trtlab::img::readPnm(path);
    CHECK(img.width == 2 && img.pixels[0] == 7 && img.pixels[1] == 9);
    std::remove(path.c_str());
}

void testPnmErrors()
{
    std::string const path = tmpFile("bad.ppm");
    writeRaw(path, "P3\n1 1\n255\n0 0 0\n");
    CHECK(throws([&] { trtlab::img::readPnm(path); }, "got magic 'P3'"));
    writeRaw(path, "P6\n2 2\n255\nabc");
    CHECK(throws([&] { trtlab::img::readPnm(path); }, "expected 12 bytes, got 3"));
    writeRaw(path, "P6\n1 1\n65535\n");
    CHECK(throws([&] { trtlab::img::readPnm(path); }, "expected maxval 255"));
    writeRaw(path, "P6\n-1 1\n255\n");
    CHECK(throws([&] { trtlab::img::readPnm(path); }, "positive integer width"));
    writeRaw(path, "P6\n");
    CHECK(throws([&] { trtlab::img::readPnm(path); }, "truncated PNM header"));
    CHECK(throws([] { trtlab::img::readPnm("/nonexistent/x.ppm"); }, "cannot open"));
    CHECK(throws([] { trtlab::img::Image(0, 1, 3); }, "width, height > 0"));
    std::remove(path.c_str());
}

void testNormalize()
{
    trtlab::img::Image rgb(2, 1, 3);
    rgb.pixels = {255, 0, 51, 0, 255, 102};
    auto const chw = trtlab::img::toChwNormalized(rgb, {0.5F, 0.0F, 0.0F}, {0.5F, 1.0F, 0.1F});
    CHECK(chw.size() == 6);
    CHECK(std::fabs(chw[0] - 1.0F) < 1e-6F);  // R of pixel 0: (1 - 0.5) / 0.5
    CHECK(std::fabs(chw[1] + 1.0F) < 1e-6F);  // R of pixel 1: (0 - 0.5) / 0.5
    CHECK(std::fabs(chw[3] - 1.0F) < 1e-6F);  // G plane, pixel 1
    CHECK(std::fabs(chw[4] - 2.0F) < 1e-5F);  // B plane, pixel 0: 0.2 / 0.1
    trtlab::img::Image gray(1, 1, 1);
    CHECK(throws([&] { trtlab::img::toChwNormalized(gray, {}, {1, 1, 1}); }, "expected an RGB"));
}

void testArgmax()
{
    // 3 classes, 1x3 image, planes [class][pixel]; pixel 2 ties classes 0 and 2 -> 0.
    std::vector<float> const scores{0.1F, 5.0F, 1.0F, 0.9F, 1.0F, 0.5F, 0.2F, 2.0F, 1.0F};
    auto const ids = trtlab::img::argmaxChw(scores.data(), 3, 1, 3);
    CHECK((ids == std::vector<std::int32_t>{1, 0, 0}));
    std::vector<std::int64_t> const wide{0, 20, 3};
    CHECK((trtlab::img::narrowClassIds(wide.data(), 3, 21) == std::vector<std::int32_t>{0, 20, 3}));
    CHECK(throws([&] { trtlab::img::narrowClassIds(wide.data(), 3, 10); }, "class id 20"));
}

void testPaletteAndOverlay()
{
    using trtlab::img::paletteColor;
    CHECK((paletteColor(0) == std::array<std::uint8_t, 3>{0, 0, 0}));
    CHECK((paletteColor(1) == std::array<std::uint8_t, 3>{128, 0, 0}));     // aeroplane
    CHECK((paletteColor(2) == std::array<std::uint8_t, 3>{0, 128, 0}));     // bicycle
    CHECK((paletteColor(15) == std::array<std::uint8_t, 3>{192, 128, 128})); // person
    auto const colored = trtlab::img::colorize({0, 15}, 2, 1);
    CHECK(colored.at(0, 1, 0) == 192 && colored.at(0, 0, 2) == 0);
    trtlab::img::Image base(2, 1, 3);
    base.pixels = {100, 100, 100, 100, 100, 100};
    CHECK(trtlab::img::blend(base, colored, 0.0F).pixels == base.pixels);
    CHECK(trtlab::img::blend(base, colored, 1.0F).pixels == colored.pixels);
    CHECK(trtlab::img::blend(base, colored, 0.5F).at(0, 1, 0) == 146);
    CHECK(throws([&] { trtlab::img::blend(base, colored, 1.5F); }, "alpha must be in [0, 1]"));
    CHECK(throws([&] { trtlab::img::blend(base, trtlab::img::Image(1, 1, 3), 0.5F); }, "same size"));
    auto const gray = trtlab::img::classMapImage({0, 15}, 2, 1);
    CHECK((trtlab::img::classIdsFromImage(gray) == std::vector<std::int32_t>{0, 15}));
    CHECK(throws([] { trtlab::img::classMapImage({0, 300}, 2, 1); }, "8-bit PGM"));
    CHECK(throws([] { trtlab::img::classMapImage({0}, 2, 1); }, "expected 2"));
}

void testTopKAndAgreement()
{
    std::vector<float> const logits{1.0F, 3.0F, 2.0F, 3.0F};
    auto const best = trtlab::img::topK(logits.data(), 4, 3);
    CHECK(best.size() == 3 && best[0].first == 1 && best[1].first == 3 && best[2].first == 2);
    double total = 0;
    for (float v : logits)
    {
        total += std::exp(static_cast<double>(v));
    }
    CHECK(std::fabs(best[0].second - static_cast<float>(std::exp(3.0) / total)) < 1e-6F);
    CHECK(trtlab::img::topK(logits.data(), 4, 10).size() == 4);
    CHECK(std::fabs(trtlab::img::pixelAgreement({1, 2, 3, 4}, {1, 2, 0, 4}) - 0.75) < 1e-12);
    CHECK(throws([] { trtlab::img::pixelAgreement({1}, {1, 2}); }, "same size"));
}

} // namespace

int main()
{
    testPnmRoundTrip();
    testPnmHeaderComments();
    testPnmErrors();
    testNormalize();
    testArgmax();
    testPaletteAndOverlay();
    testTopKAndAgreement();
    std::cout << (gChecks - gFailures) << " passed, " << gFailures << " failed\n";
    return gFailures == 0 ? 0 : 1;
}
