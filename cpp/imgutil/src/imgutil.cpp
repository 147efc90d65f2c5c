// Implementation of trtlab/imgutil.hpp (see there for the why of each helper).
#include "trtlab/imgutil.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <numeric>
#include <sstream>

namespace trtlab::img
{
namespace
{

std::size_t checkedSize(int width, int height, int channels)
{
    if (width <= 0 || height <= 0 || (channels != 1 && channels != 3))
    {
        std::ostringstream msg;
        msg << "expected width, height > 0 and 1 or 3 channels, got " << width << "x" << height
            << "x" << channels;
        throw ImageError(msg.str());
    }
    return static_cast<std::size_t>(width) * static_cast<std::size_t>(height)
        * static_cast<std::size_t>(channels);
}

//! Next header token of a PNM file, skipping whitespace and '#' comments.
std::string headerToken(std::istream& in, std::string const& path)
{
    std::string token;
    while (in)
    {
        int const c = in.get();
        if (c == EOF)
        {
            break;
        }
        if (c == '#')
        {
            std::string comment;
            std::getline(in, comment);
            if (!token.empty())
            {
                break;
            }
            continue;
        }
        if (std::isspace(c) != 0)
        {
            if (!token.empty())
            {
                break;
            }
            continue;
        }
        token.push_back(static_cast<char>(c));
    }
    if (token.empty())
    {
        throw ImageError(path + ": truncated PNM header (expected magic, width, height, maxval)");
    }
    return token;
}

int headerInt(std::istream& in, std::string const& path, char const* what)
{
    std::string const token = headerToken(in, path);
    if (!std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; })
        || token.size() > 9)
    {
        throw ImageError(path + ": expected a positive integer " + what + ", got '" + token + "'");
    }
    return std::stoi(token);
}

} // namespace

Image::Image(int w, int h, int c)
    : width(w)
    , height(h)
    , channels(c)
    , pixels(checkedSize(w, h, c), 0)
{
}

std::uint8_t& Image::at(int y, int x, int c)
{
    return pixels[(static_cast<std::size_t>(y) * static_cast<std::size_t>(width)
                      + static_cast<std::size_t>(x))
            * static_cast<std::size_t>(channels)
        + static_cast<std::size_t>(c)];
}

std::uint8_t Image::at(int y, int x, int c) const
{
    return pixels[(static_cast<std::size_t>(y) * static_cast<std::size_t>(width)
                      + static_cast<std::size_t>(x))
            * static_cast<std::size_t>(channels)
        + static_cast<std::size_t>(c)];
}

Image readPnm(std::string const& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
    {
        throw ImageError(path + ": cannot open (expected a binary PPM/PGM file)");
    }
    std::string const magic = headerToken(in, path);
    int channels = 0;
    if (magic == "P6")
    {
        channels = 3;
    }
    else if (magic == "P5")
    {
        channels = 1;
    }
    else
    {
        throw ImageError(path + ": expected a binary PPM (P6) or PGM (P5), got magic '" + magic
            + "' (convert with: python -c \"from PIL import Image; "
              "Image.open('in.jpg').convert('RGB').save('in.ppm')\")");
    }
    int const width = headerInt(in, path, "width");
    int const height = headerInt(in, path, "height");
    int const maxval = headerInt(in, path, "maxval");
    if (maxval != 255)
    {
        throw ImageError(path + ": expected maxval 255 (8-bit), got " + std::to_string(maxval));
    }
    Image image(width, height, channels);
    in.read(reinterpret_cast<char*>(image.pixels.data()),
        static_cast<std::streamsize>(image.pixels.size()));
    if (static_cast<std::size_t>(in.gcount()) != image.pixels.size())
    {
        throw ImageError(path + ": truncated pixel data: expected "
            + std::to_string(image.pixels.size()) + " bytes, got " + std::to_string(in.gcount()));
    }
    return image;
}

void writePnm(std::string const& path, Image const& image)
{
    std::size_t const size = checkedSize(image.width, image.height, image.channels);
    if (image.pixels.size() != size)
    {
        throw ImageError(path + ": image holds " + std::to_string(image.pixels.size())
            + " bytes, expected " + std::to_string(size));
    }
    std::string const tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out)
        {
            throw ImageError(tmp + ": cannot open for writing");
        }
        out << (image.channels == 3 ? "P6" : "P5") << "\n"
            << image.width << " " << image.height << "\n255\n";
        out.write(reinterpret_cast<char const*>(image.pixels.data()),
            static_cast<std::streamsize>(image.pixels.size()));
        if (!out.flush())
        {
            std::remove(tmp.c_str());
            throw ImageError(tmp + ": write failed (disk full?)");
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
    {
        std::remove(tmp.c_str());
        throw ImageError(path + ": cannot rename the temporary file into place");
    }
}

std::vector<float> toChwNormalized(
    Image const& rgb, std::array<float, 3> const& mean, std::array<float, 3> const& stddev)
{
    if (rgb.channels != 3)
    {
        throw ImageError("expected an RGB image (3 channels), got "
            + std::to_string(rgb.channels) + " channel(s)");
    }
    std::size_t const plane = static_cast<std::size_t>(rgb.width) * static_cast<std::size_t>(rgb.height);
    std::vector<float> chw(plane * 3);
    for (std::size_t i = 0; i < plane; ++i)
    {
        for (std::size_t c = 0; c < 3; ++c)
        {
            float const v = static_cast<float>(rgb.pixels[i * 3 + c]) / 255.0F;
            chw[c * plane + i] = (v - mean[c]) / stddev[c];
        }
    }
    return chw;
}

std::vector<std::int32_t> argmaxChw(float const* scores, int classes, int height, int width)
{
    if (scores == nullptr || classes <= 0 || height <= 0 || width <= 0)
    {
        throw ImageError("argmaxChw: expected scores and classes, height, width > 0");
    }
    std::size_t const plane = static_cast<std::size_t>(height) * static_cast<std::size_t>(width);
    std::vector<std::int32_t> ids(plane, 0);
    for (std::size_t i = 0; i < plane; ++i)
    {
        float best = scores[i];
        for (int c = 1; c < classes; ++c)
        {
            float const v = scores[static_cast<std::size_t>(c) * plane + i];
            if (v > best)
            {
                best = v;
                ids[i] = c;
            }
        }
    }
    return ids;
}

std::vector<std::int32_t> narrowClassIds(std::int64_t const* ids, std::size_t count, int classes)
{
    std::vector<std::int32_t> out(count);
    for (std::size_t i = 0; i < count; ++i)
    {
        if (ids[i] < 0 || ids[i] >= classes)
        {
            throw ImageError("class id " + std::to_string(ids[i]) + " at pixel " + std::to_string(i)
                + " is outside [0, " + std::to_string(classes) + "): wrong output tensor or dtype?");
        }
        out[i] = static_cast<std::int32_t>(ids[i]);
    }
    return out;
}

Image classMapImage(std::vector<std::int32_t> const& ids, int width, int height)
{
    Image gray(width, height, 1);
    if (ids.size() != gray.pixels.size())
    {
        throw ImageError("class map has " + std::to_string(ids.size()) + " entries, expected "
            + std::to_string(gray.pixels.size()) + " (" + std::to_string(width) + "x"
            + std::to_string(height) + ")");
    }
    for (std::size_t i = 0; i < ids.size(); ++i)
    {
        if (ids[i] < 0 || ids[i] > 255)
        {
            throw ImageError("class id " + std::to_string(ids[i]) + " does not fit an 8-bit PGM");
        }
        gray.pixels[i] = static_cast<std::uint8_t>(ids[i]);
    }
    return gray;
}

std::vector<std::int32_t> classIdsFromImage(Image const& gray)
{
    if (gray.channels != 1)
    {
        throw ImageError("expected a 1-channel class map (PGM), got "
            + std::to_string(gray.channels) + " channels");
    }
    return {gray.pixels.begin(), gray.pixels.end()};
}

std::array<std::uint8_t, 3> paletteColor(int classId)
{
    std::array<std::uint8_t, 3> rgb{0, 0, 0};
    int id = classId;
    for (int shift = 7; shift >= 0 && id > 0; --shift)
    {
        for (std::size_t c = 0; c < 3; ++c)
        {
            if ((id >> c) & 1)
            {
                rgb[c] = static_cast<std::uint8_t>(rgb[c] | (1U << shift));
            }
        }
        id >>= 3;
    }
    return rgb;
}

Image colorize(std::vector<std::int32_t> const& ids, int width, int height)
{
    Image rgb(width, height, 3);
    if (ids.size() * 3 != rgb.pixels.size())
    {
        throw ImageError("colorize: class map size does not match " + std::to_string(width) + "x"
            + std::to_string(height));
    }
    for (std::size_t i = 0; i < ids.size(); ++i)
    {
        auto const color = paletteColor(ids[i]);
        std::copy(color.begin(), color.end(), rgb.pixels.begin() + static_cast<std::ptrdiff_t>(i * 3));
    }
    return rgb;
}

Image blend(Image const& base, Image const& overlay, float alpha)
{
    if (base.width != overlay.width || base.height != overlay.height
        || base.channels != overlay.channels)
    {
        throw ImageError("blend: expected images of the same size and channels, got "
            + std::to_string(base.width) + "x" + std::to_string(base.height) + " and "
            + std::to_string(overlay.width) + "x" + std::to_string(overlay.height));
    }
    if (!(alpha >= 0.0F && alpha <= 1.0F))
    {
        throw ImageError("blend: alpha must be in [0, 1], got " + std::to_string(alpha));
    }
    Image out(base.width, base.height, base.channels);
    for (std::size_t i = 0; i < out.pixels.size(); ++i)
    {
        float const v = alpha * static_cast<float>(overlay.pixels[i])
            + (1.0F - alpha) * static_cast<float>(base.pixels[i]);
        out.pixels[i] = static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0F, 255.0F)));
    }
    return out;
}

std::vector<std::pair<int, float>> topK(float const* logits, int count, int k)
{
    if (logits == nullptr || count <= 0 || k <= 0)
    {
        throw ImageError("topK: expected logits, count > 0 and k > 0");
    }
    float const peak = *std::max_element(logits, logits + count);
    std::vector<double> prob(static_cast<std::size_t>(count));
    double total = 0.0;
    for (std::size_t i = 0; i < prob.size(); ++i)
    {
        prob[i] = std::exp(static_cast<double>(logits[i]) - static_cast<double>(peak));
        total += prob[i];
    }
    std::vector<int> order(static_cast<std::size_t>(count));
    std::iota(order.begin(), order.end(), 0);
    auto const keep = static_cast<std::ptrdiff_t>(std::min(k, count));
    std::partial_sort(order.begin(), order.begin() + keep, order.end(), [&](int a, int b) {
        return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    });
    std::vector<std::pair<int, float>> best;
    for (std::ptrdiff_t i = 0; i < keep; ++i)
    {
        int const id = order[static_cast<std::size_t>(i)];
        best.emplace_back(id, static_cast<float>(prob[static_cast<std::size_t>(id)] / total));
    }
    return best;
}

double pixelAgreement(std::vector<std::int32_t> const& a, std::vector<std::int32_t> const& b)
{
    if (a.size() != b.size() || a.empty())
    {
        throw ImageError("pixelAgreement: expected two non-empty class maps of the same size, got "
            + std::to_string(a.size()) + " and " + std::to_string(b.size()));
    }
    std::size_t same = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
    {
        same += a[i] == b[i] ? 1U : 0U;
    }
    return static_cast<double>(same) / static_cast<double>(a.size());
}

} // namespace trtlab::img
