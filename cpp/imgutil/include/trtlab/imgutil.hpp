// Pure C++17 image helpers for the trtlab C++ runtime: PPM/PGM I/O, ImageNet normalisation,
// argmax over class scores, class-map colouring and overlays, top-k. No TensorRT, no CUDA, so
// CI builds and tests this part with g++ -Wall -Wextra -Werror on any machine.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace trtlab::img
{

//! Bad input or an unreadable file; the message says what was expected and what came.
class ImageError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

//! 8-bit image, rows top to bottom, channels interleaved (HWC): 1 = gray (PGM), 3 = RGB (PPM).
struct Image
{
    int width{0};
    int height{0};
    int channels{0};
    std::vector<std::uint8_t> pixels;

    Image() = default;
    Image(int w, int h, int c);
    std::uint8_t& at(int y, int x, int c);
    std::uint8_t at(int y, int x, int c) const;
};

//! Read a binary PGM (P5) or PPM (P6) file with maxval 255; '#' comments in the header are skipped.
Image readPnm(std::string const& path);

//! Write P5 (1 channel) or P6 (3 channels) through a temporary file renamed into place, so an
//! interrupted run never leaves half an image.
void writePnm(std::string const& path, Image const& image);

//! RGB -> planar CHW float: (pixel / 255 - mean[c]) / stddev[c] (torchvision's ImageNet transform).
std::vector<float> toChwNormalized(
    Image const& rgb, std::array<float, 3> const& mean, std::array<float, 3> const& stddev);

//! ImageNet mean and standard deviation (what trtlab's Python pre-processing uses).
constexpr std::array<float, 3> kImagenetMean{0.485F, 0.456F, 0.406F};
constexpr std::array<float, 3> kImagenetStd{0.229F, 0.224F, 0.225F};

//! Per-pixel argmax over scores laid out [classes, height, width]; ties go to the lower class id
//! (as torch.argmax and numpy.argmax do).
std::vector<std::int32_t> argmaxChw(float const* scores, int classes, int height, int width);

//! int64 class ids (an argmax head's output) -> int32, refusing ids outside [0, classes).
std::vector<std::int32_t> narrowClassIds(std::int64_t const* ids, std::size_t count, int classes);

//! Class map as an 8-bit gray image (the file Python compares with); ids must be < 256.
Image classMapImage(std::vector<std::int32_t> const& ids, int width, int height);

//! Class map read back from a PGM written by classMapImage.
std::vector<std::int32_t> classIdsFromImage(Image const& gray);

//! The PASCAL VOC colour of a class id (bit-interleaved palette: 0 black, 1 dark red, ...).
std::array<std::uint8_t, 3> paletteColor(int classId);

//! Class map -> RGB image with the VOC palette.
Image colorize(std::vector<std::int32_t> const& ids, int width, int height);

//! alpha * overlay + (1 - alpha) * base, per channel (same size RGB images, alpha in [0, 1]).
Image blend(Image const& base, Image const& overlay, float alpha);

//! The k highest softmax probabilities of a logits vector, best first: (class id, probability).
std::vector<std::pair<int, float>> topK(float const* logits, int count, int k);

//! Fraction of equal entries of two class maps of the same size.
double pixelAgreement(std::vector<std::int32_t> const& a, std::vector<std::int32_t> const& b);

} // namespace trtlab::img
